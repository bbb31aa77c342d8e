// Draws every chart spec on the page with plotly.js (served from /static/vendor/plotly/).
// Specs are JSON in <script type="application/json" id="ID-spec"> (Django's json_script) next to <div id="ID">:
// no inline script, so a strict Content-Security-Policy can stay on.
(function () {
  function draw() {
    document.querySelectorAll('script[type="application/json"][id$="-spec"]').forEach(function (el) {
      var target = document.getElementById(el.id.slice(0, -5));
      if (!target || target.dataset.drawn) return;
      var spec = JSON.parse(el.textContent);
      Plotly.newPlot(target, spec.data, spec.layout, {displaylogo: false, responsive: true});
      target.dataset.drawn = "1";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
