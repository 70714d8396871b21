/* Every page: a <select data-autosubmit> sends its form when changed (the language switcher,
   the funds page's year). Kept out of the templates: the Content Security Policy allows no
   inline script or event-handler attribute. Without JavaScript, a <noscript> button does it. */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
})();

/* The copies of forms kept in this browser while they are typed (form-draft.js): every page
   removes those the server has confirmed (the case page names their one-time keys), those older
   than three days, and all of them when someone signs out here (the sign-out answer also
   carries Clear-Site-Data, for when this script does not run). */
(function () {
  "use strict";
  var PREFIX = "relief-draft:";
  var MAX_AGE_MS = 3 * 24 * 3600 * 1000;
  var store;
  try {
    store = window.localStorage;
  } catch (e) {
    return;
  }
  if (!store) return;

  function draftKeys() {
    var keys = [];
    for (var i = 0; i < store.length; i += 1) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) keys.push(key);
    }
    return keys;
  }

  var saved = [];
  document.querySelectorAll("[data-drafts-saved]").forEach(function (el) {
    saved = saved.concat(el.getAttribute("data-drafts-saved").split(" "));
  });
  var now = Date.now();
  draftKeys().forEach(function (key) {
    var draft = null;
    try {
      draft = JSON.parse(store.getItem(key));
    } catch (e) {
      draft = null;
    }
    if (!draft || !draft.at || now - draft.at > MAX_AGE_MS ||
        (draft.key && saved.indexOf(draft.key) !== -1)) {
      store.removeItem(key);
    }
  });

  document.querySelectorAll("form[action$='/logout/']").forEach(function (form) {
    form.addEventListener("submit", function () {
      draftKeys().forEach(function (key) { store.removeItem(key); });
    });
  });
})();

/* A period is one year or a range (the reports page): typing into an input of one choice
   selects that choice's radio button, so a pre-filled year never spoils a range. */
(function () {
  "use strict";
  document.querySelectorAll("input[data-selects]").forEach(function (input) {
    var pick = function () {
      var radio = document.getElementById(input.getAttribute("data-selects"));
      if (radio) {
        radio.checked = true;
      }
    };
    input.addEventListener("focus", pick);
    input.addEventListener("input", pick);
  });
})();
