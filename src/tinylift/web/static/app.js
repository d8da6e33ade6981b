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
