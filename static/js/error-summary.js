/* The error summary on top of a refused form: it takes the focus when the page opens, and each
   of its links goes to its field and focuses the input (a plain anchor only scrolls, and a
   sticky bar or the phone's keyboard may then hide the field). Without scripts the anchors
   still jump to the fields. */
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;

  function fieldBox(el) {
    return el.closest(".field, fieldset, .member, section") || el;
  }

  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-error-link]");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("data-error-link"));
    if (!target) return;
    event.preventDefault();
    // A heading (a section's own message) is not focusable by itself.
    if (!target.matches("input, select, textarea, button, a[href]")) {
      target.setAttribute("tabindex", "-1");
    }
    fieldBox(target).scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  });
  summary.focus();
})();
