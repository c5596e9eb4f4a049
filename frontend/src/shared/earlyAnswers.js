// Answers to GETs that the page's early start (frontend/early.js) asked for before the app ran,
// kept in `window.__gjEarly.answers` by URL. Each is handed once, to the first identical GET of
// the app's client (shared/api.js); the rest are dropped when the app leaves its landing page.
const store = () => (typeof window === 'undefined' ? null : window.__gjEarly || null);

/** Mark the app as started: an early start that arrives after this asks for nothing. */
export function appStarted() {
  if (typeof window !== 'undefined' && !window.__gjEarly) window.__gjEarly = { answers: {} };
}

/** The early answer (the promise of a Response) for a GET of this URL, once; else null. */
export function takeEarlyAnswer(url) {
  const early = store();
  if (!early || !early.answers || !Object.prototype.hasOwnProperty.call(early.answers, url)) return null;
  const answer = early.answers[url];
  delete early.answers[url];
  return answer;
}

/** Forget the answers nobody took: they were asked for the page the app landed on. */
export function dropEarlyAnswers() {
  const early = store();
  if (early) early.answers = {};
}
