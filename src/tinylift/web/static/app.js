// Draw every Plotly figure whose JSON the page carries (no inline scripts: CSP).
(function () {
  function draw(targetId, dataId) {
    var target = document.getElementById(targetId);
    var data = document.getElementById(dataId);
    if (!target || !data || !window.Plotly) return;
    var fig = JSON.parse(data.textContent);
    window.Plotly.newPlot(target, fig.data, fig.layout, { displaylogo: false, responsive: true });
  }
  draw("forest-plot", "forest-data");
  document.querySelectorAll("[data-plot]").forEach(function (el, i) {
    el.id = el.id || "plot-" + i;
    draw(el.id, el.getAttribute("data-plot"));
  });
})();

// While an analysis runs, keep its stage on the page.
(function () {
  var status = document.getElementById("job-status");
  if (!status || status.textContent.indexOf("running") < 0) return;
  var timer = setInterval(function () {
    fetch("/api/v1/refresh", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        if (job.state === "running") {
          status.textContent = "Analysis running: " + (job.stage || "starting") + " …";
        } else {
          clearInterval(timer);
          status.textContent = "Analysis done: " + (job.analysed || 0) + " experiments" +
            (job.error ? " — failed: " + job.error : "") + ".";
        }
      });
  }, 2000);
})();
