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
