// What the credit screens share: how a place on the list looks.

/** The colour of a place's tag: 红榜 red, 黑榜 black (never the other way round). */
export function placeColor(place) {
  if (place === 'red') return '#c62828';
  if (place === 'black') return '#202124';
  return '#6b6b6b';
}
