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
