// The props every staff panel of a ballot takes: which compound and which ballot it works on.
export const BALLOT_PANEL_PROPS = {
  compoundId: { type: Number, required: true },
  ballotId: { type: Number, required: true },
};
