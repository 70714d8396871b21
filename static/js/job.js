/* A queued or running report: poll its status until the PDF is ready (reports/job.html). */
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) return;
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      document.getElementById("job-status").textContent = d.status_label;
      document.getElementById("job-progress").value = d.percent;
      document.getElementById("job-rows").textContent = d.rows_done;
      if (d.ready) {
        document.getElementById("job-download").hidden = false;
        var preparing = document.getElementById("job-preparing");
        if (preparing) { preparing.hidden = true; }
      }
      else if (d.status !== "failed") { setTimeout(poll, 1500); }
      else { location.reload(); }
    });
  }
  setTimeout(poll, 1500);
})();
