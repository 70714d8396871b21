/* Case form helpers. The form works without this script (blank household rows and
   "remove" check boxes, the cap checked on the server); with it, rows are added and removed
   in place and the requested amount is checked against the cap as it is typed. */
(function () {
  "use strict";

  function fieldInputs(row) {
    return row.querySelectorAll("input:not([type=checkbox]):not([type=hidden]), select, textarea");
  }

  function isBlank(row) {
    if (row.classList.contains("has-error")) return false;
    return Array.prototype.every.call(fieldInputs(row), function (el) {
      return !el.value;
    });
  }

  function deleteBox(row) {
    return row.querySelector("input[type=checkbox][name$='-DELETE']");
  }

  function setUpFormset(section) {
    var prefix = section.getAttribute("data-formset");
    var total = section.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var initial = section.querySelector("input[name='" + prefix + "-INITIAL_FORMS']");
    var list = section.querySelector("[data-members]");
    var template = section.querySelector("template[data-member-template]");
    var addButton = section.querySelector("[data-add-member]");
    var none = section.querySelector("[data-no-members]");
    if (!total || !list || !template || !addButton) return;

    function rows() {
      return Array.prototype.slice.call(list.querySelectorAll("[data-member]"));
    }

    function renumber() {
      var n = 0;
      rows().forEach(function (row) {
        if (row.hidden) return;
        n += 1;
        var label = row.querySelector("[data-member-number]");
        if (label) label.textContent = String(n);
      });
      if (none) none.hidden = n > 0;
    }

    function wire(row) {
      var box = deleteBox(row);
      var check = row.querySelector("[data-remove-check]");
      var button = row.querySelector("[data-remove-member]");
      if (check) check.hidden = true;
      if (!button || !box) return;
      button.hidden = false;
      if (box.checked) row.hidden = true;
      button.addEventListener("click", function () {
        box.checked = true;
        row.hidden = true;
        renumber();
        addButton.focus();
      });
    }

    // The blank rows at the end are there for browsers without scripts: drop them here.
    var all = rows();
    var firstExtra = parseInt(initial.value, 10) || 0;
    for (var i = all.length - 1; i >= firstExtra; i -= 1) {
      if (!isBlank(all[i])) break;
      all[i].remove();
      total.value = String(i);
    }
    rows().forEach(wire);

    addButton.hidden = false;
    addButton.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).trim();
      var row = holder.firstElementChild;
      list.appendChild(row);
      total.value = String(index + 1);
      wire(row);
      renumber();
      var first = fieldInputs(row)[0];
      if (first) first.focus();
    });
    renumber();
  }

  function setUpCapCheck(input) {
    var cap = parseFloat(input.getAttribute("data-cap"));
    var out = document.getElementById(input.id + "_live");
    if (!out || isNaN(cap)) return;
    function check() {
      var value = parseFloat(input.value);
      if (!input.value || isNaN(value)) {
        out.hidden = true;
        input.removeAttribute("aria-invalid");
        return;
      }
      var over = value > cap;
      out.hidden = false;
      out.textContent = input.getAttribute(over ? "data-over-text" : "data-ok-text");
      out.className = "live-check " + (over ? "is-over" : "is-ok");
      if (over) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    input.addEventListener("input", check);
    // After a refused save the server's message is already there: do not repeat it.
    if (!input.closest(".has-error")) check();
  }

  function guardDoubleSubmit(form) {
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) event.preventDefault();
      sent = true;
      window.setTimeout(function () { sent = false; }, 8000);
    });
  }

  document.querySelectorAll("[data-formset]").forEach(setUpFormset);
  document.querySelectorAll("input[data-cap]").forEach(setUpCapCheck);
  document.querySelectorAll("form[data-case-form]").forEach(guardDoubleSubmit);
})();
