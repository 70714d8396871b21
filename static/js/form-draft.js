/* A lost signal loses nothing (issue 13, item 18).

   The intake, correction and home-visit forms (<form data-draft="name" data-draft-user="pk">)
   are copied into the browser's localStorage as they are typed, under a key naming the signed-in
   user: another user of the same phone never gets them back. When the submission fails (no
   network), the next visit of the page puts the copy back, says so, and offers to discard it.
   The copy holds the form's one-time key (relief.idempotency): sent again after the server had
   already received it, the form answers with the first case or visit instead of a second one.

   What is never kept: files (only their choice could be, and not their contents), bank card
   numbers (inputs marked data-draft-skip), the CSRF token. What removes a copy: the server
   confirming it has the submission (the case page names its key, see site.js), discarding it,
   signing out (site.js and the Clear-Site-Data header), and age (site.js: after three days).

   The intake starts with an ID-number step: there, <form data-draft-resume="case-new"> offers
   to continue with the kept copy (its ID number shown masked), and the copy is put back on the
   next step if it is for the same ID number (data-draft-match). */
(function () {
  "use strict";
  var PREFIX = "relief-draft:";
  var SKIP_TYPES = { file: 1, submit: 1, button: 1, reset: 1, password: 1, image: 1 };
  // Hidden inputs the page itself decides; of the hidden ones only these come back.
  var HIDDEN_KEPT = { idempotency_key: 1, version: 1 };
  var FORMSET_META = /-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$/;

  function storage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null; // storage turned off: the form works as before, without the copy
    }
  }

  function keyFor(el, name) {
    return PREFIX + el.getAttribute("data-draft-user") + ":" + name;
  }

  function read(key) {
    var store = storage();
    if (!store) return null;
    try {
      var draft = JSON.parse(store.getItem(key));
      return draft && draft.v === 1 && draft.fields ? draft : null;
    } catch (e) {
      return null;
    }
  }

  function remove(key) {
    var store = storage();
    if (store) store.removeItem(key);
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function when(ms) {
    var d = new Date(ms);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function masked(number) {
    return number && number.length > 10 ?
      number.slice(0, 6) + new Array(number.length - 9).join("*") + number.slice(-4) : "";
  }

  function kept(el) {
    if (!el.name || el.disabled || SKIP_TYPES[el.type]) return false;
    if (el.name === "csrfmiddlewaretoken" || el.hasAttribute("data-draft-skip")) return false;
    if (FORMSET_META.test(el.name)) return false;
    return el.type !== "hidden" || HIDDEN_KEPT[el.name] === 1;
  }

  function collect(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      var list = fields[el.name] || (fields[el.name] = []);
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) list.push(el.value);
      } else if (el.type === "select-multiple") {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { list.push(o.value); });
      } else {
        list.push(el.value);
      }
    });
    return fields;
  }

  // Household rows added on the page: add as many as the copy had (case-form.js's button).
  function addRows(form, fields) {
    form.querySelectorAll("[data-formset]").forEach(function (section) {
      var prefix = section.getAttribute("data-formset");
      var total = form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
      var add = section.querySelector("[data-add-member]");
      if (!total || !add) return;
      var pattern = new RegExp("^" + prefix + "-(\\d+)-");
      var highest = -1;
      Object.keys(fields).forEach(function (name) {
        var m = pattern.exec(name);
        if (m) highest = Math.max(highest, parseInt(m[1], 10));
      });
      var guard = 0;
      while ((parseInt(total.value, 10) || 0) <= highest && guard < 50) {
        add.click();
        guard += 1;
      }
    });
  }

  function restore(form, draft) {
    var fields = draft.fields;
    addRows(form, fields);
    var seen = {};
    var removals = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el) || !(el.name in fields)) return;
      var values = fields[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        var on = values.indexOf(el.value) !== -1;
        if (/-DELETE$/.test(el.name)) {
          if (on && !el.checked) removals.push(el);
          return;
        }
        el.checked = on;
      } else if (el.type === "select-multiple") {
        Array.prototype.forEach.call(el.options, function (o) {
          o.selected = values.indexOf(o.value) !== -1;
        });
      } else {
        var i = seen[el.name] || 0;
        seen[el.name] = i + 1;
        if (i < values.length) el.value = values[i];
      }
      // Live checks (the cap on the requested amount) run as if it had been typed.
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    // A row removed in the copy is removed the way the page removes it (hidden, renumbered).
    removals.forEach(function (box) {
      var row = box.closest("[data-member]");
      var button = row && row.querySelector("[data-remove-member]");
      if (button && !button.hidden) button.click();
      else box.checked = true;
    });
  }

  function showNotice(notice, draft) {
    var time = notice.querySelector("[data-draft-time]");
    if (time) {
      time.textContent = when(draft.at);
      time.setAttribute("datetime", new Date(draft.at).toISOString());
    }
    var id = notice.querySelector("[data-draft-id]");
    if (id) id.textContent = masked(draft.match || "");
    notice.hidden = false;
  }

  function setUpForm(form) {
    var store = storage();
    if (!store) return;
    var key = keyFor(form, form.getAttribute("data-draft"));
    var match = form.getAttribute("data-draft-match") || "";
    var notice = form.querySelector("[data-draft-notice]");
    var keyInput = form.querySelector("input[name='idempotency_key']");
    var pageKey = keyInput ? keyInput.value : "";
    var touched = false;

    function save() {
      var draft = {
        v: 1,
        at: Date.now(),
        match: match,
        key: keyInput ? keyInput.value : "",
        fields: collect(form)
      };
      try {
        store.setItem(key, JSON.stringify(draft));
      } catch (e) {
        // Storage full or refused: the form still works, without the copy.
      }
    }

    var draft = read(key);
    // After a refused submission the server shows what was sent: nothing to put back.
    if (draft && !form.hasAttribute("data-draft-bound") && draft.match === match) {
      restore(form, draft);
      if (notice) showNotice(notice, draft);
      touched = true;
    }

    function changed() {
      touched = true;
      save();
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    // Rows added or removed change no input: save after the page has done it.
    form.addEventListener("click", function (event) {
      if (event.target.closest("[data-add-member], [data-remove-member]")) {
        window.setTimeout(changed, 0);
      }
    });
    form.addEventListener("submit", function () {
      if (touched) save();
    });

    var discard = notice && notice.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        remove(key);
        form.reset();
        if (keyInput) keyInput.value = pageKey;
        touched = false;
        notice.hidden = true;
        var first = form.querySelector("input:not([type=hidden]), textarea, select");
        if (first) first.focus();
      });
    }
  }

  function setUpResume(form) {
    var key = keyFor(form, form.getAttribute("data-draft-resume"));
    var draft = read(key);
    var notice = document.querySelector("[data-draft-resume-notice]");
    if (!draft || !draft.match || !notice) return;
    showNotice(notice, draft);
    notice.querySelector("[data-draft-continue]").addEventListener("click", function () {
      form.querySelector("input[name='id_number']").value = draft.match;
      // The kept key goes along: if the server already has this case, it answers with it.
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "idempotency_key";
      hidden.value = draft.key || "";
      form.appendChild(hidden);
      form.submit();
    });
    notice.querySelector("[data-draft-discard]").addEventListener("click", function () {
      remove(key);
      notice.hidden = true;
    });
  }

  document.querySelectorAll("form[data-draft]").forEach(setUpForm);
  document.querySelectorAll("form[data-draft-resume]").forEach(setUpResume);
})();
