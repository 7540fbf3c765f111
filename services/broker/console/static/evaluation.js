// The evaluation page's charts (履职评价), drawn with the vendored Apache ECharts from the page's
// own JSON: the page's Content-Security-Policy allows no inline script, and no style attribute
// in markup either, so tooltips are plain text lines (ECharts' default tooltip HTML has some).
"use strict";
(function () {
  const boxes = document.querySelectorAll(".chart[data-src]");
  if (!boxes.length || !window.echarts) return;
  const escape = window.echarts.format.encodeHTML;

  function plainTooltip(params) {
    const lines = [escape(params[0].axisValue)];
    for (const p of params) lines.push(escape(p.seriesName + ": " + (p.value ?? "—")));
    return lines.join("<br>");
  }

  function options(kind, data) {
    const labels = data.rows.map((r) => r.label);
    const series = (kind === "hours" ? ["decision_hours_median"]
      : ["approved", "rejected", "sla_breaches", "escalations_caused"]).map((m) => ({
      name: data.legend[m],
      type: "bar",
      stack: m === "approved" || m === "rejected" ? "decided" : undefined,
      data: data.rows.map((r) => r[m]),
    }));
    return {
      animation: false,
      tooltip: { trigger: "axis", formatter: plainTooltip },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: kind === "hours" ? 0 : 1 },
      yAxis: { type: "category", data: labels, inverse: true },
      series: series,
    };
  }

  fetch(boxes[0].dataset.src, { credentials: "same-origin" })
    .then((answer) => answer.json())
    .then((data) => {
      for (const box of boxes) {
        box.style.height = Math.max(160, 48 + data.rows.length * 28) + "px";
        const chart = window.echarts.init(box, null, { renderer: "svg" });
        chart.setOption(options(box.dataset.kind, data));
        window.addEventListener("resize", () => chart.resize());
        box.dataset.drawn = String(data.rows.length); // the browser tests wait on it
      }
    });
})();
