// The page's early start: a tiny classic script that index.html loads (async) next to the app's
// bundle. On a landing page listed below it asks the server at once for that page's data and
// preloads its view's code, so neither waits for the app to start, check the session and load
// the view in turn (three round trips one after the other on a phone).
//
// The app (frontend/src/shared/api.js) takes each answer for the first identical GET and asks
// again for a 401 (the session may have been refreshed in between); answers nobody took are
// dropped at the next navigation. Every path here is a GET the page's own api.js already makes
// (tests/test_frontend_api.py checks both). Built by vite.config.js (earlyStart): FILES becomes
// the view's chunks and stylesheets; the file is served under a content-hashed name.
(function () {
  'use strict';
  if (window.__gjEarly) return; // the app started first: it asks for itself

  var ROUTES = [
    {
      // The owner's ballot page: where a reminder's, a notice's or a receipt's link lands.
      path: /^\/c\/(\d+)\/ballots\/(\d+)\/?$/,
      view: 'src/voting/views/BallotView.vue',
      get: [
        '/auth/me',
        '/compounds/$1/ballots/$2',
        '/compounds/$1/ballots/$2/my-votes',
        '/compounds/$1/ballots/$2/turnout',
      ],
    },
  ];
  var FILES = __GJ_VIEW_FILES__;

  var early = { answers: {} };
  window.__gjEarly = early;
  var path = window.location.pathname;
  for (var i = 0; i < ROUTES.length; i++) {
    var found = ROUTES[i].path.exec(path);
    if (!found) continue;
    ROUTES[i].get.forEach(function (template) {
      var url = '/api/v1' + template.replace(/\$(\d)/g, function (_, n) { return found[Number(n)]; });
      var answer = window.fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      answer.catch(function () {}); // a network failure is the app's to report when it asks
      early.answers[url] = answer;
    });
    (FILES[ROUTES[i].view] || []).forEach(function (href) {
      var link = document.createElement('link');
      if (/\.css$/.test(href)) {
        // Fetched now; the app's own loader still adds the stylesheet and waits for it.
        link.rel = 'preload';
        link.as = 'style';
      } else {
        link.rel = 'modulepreload';
        link.crossOrigin = '';
      }
      link.href = href;
      document.head.appendChild(link);
    });
    return;
  }
})();
