/* The HQ dashboard's charts: ECharts (served locally) drawn from the figures the page embeds
   (json_script "hq-figures"). The same numbers are in the table under each chart. */
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("hq-figures").textContent);
  var text = JSON.parse(document.getElementById("hq-i18n").textContent);
  var palette = ["#d32f2f", "#0b5cad", "#187534", "#8f5f00", "#7b4bb7", "#00838f", "#5c6370"];
  var yuan = function (fen) { return fen == null ? null : Math.round(fen) / 100; };
  var pct = function (v) { return v == null ? null : Math.round(v * 1000) / 10; };
  var base = { color: palette, textStyle: { fontFamily: "system-ui, 'Noto Sans CJK SC', 'PingFang SC', sans-serif" },
               grid: { left: 48, right: 16, top: 24, bottom: 32, containLabel: true }, tooltip: {} };

  function bar(labels, values, name, suffix) {
    return { xAxis: { type: "category", data: labels, axisLabel: { interval: 0 } },
             yAxis: { type: "value", minInterval: 1, axisLabel: { formatter: "{value}" + (suffix || "") } },
             tooltip: { trigger: "axis" },
             series: [{ type: "bar", name: name, data: values, barMaxWidth: 48,
                        label: { show: true, position: "top", formatter: "{c}" + (suffix || "") } }] };
  }
  function pie(rows) {
    return { tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" }, legend: { bottom: 0 },
             series: [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"],
                        label: { formatter: "{b}\n{c}" },
                        data: rows.map(function (r) { return { name: r.label, value: r.value }; }) }] };
  }

  var builders = {
    channel: function (f) {
      return bar(f.rows.map(function (r) { return r.label; }), f.rows.map(function (r) { return r.value; }), text.orders);
    },
    mode: function (f) { return pie(f.rows); },
    tiers: function (f) { return pie(f.rows); },
    pickup: function (f) {
      return { tooltip: { formatter: "{b}: {c}%" },
               series: [{ type: "gauge", min: 0, max: 100, progress: { show: true, width: 14 },
                          axisLine: { lineStyle: { width: 14 } }, pointer: { show: false },
                          axisTick: { show: false }, splitLine: { show: false }, axisLabel: { show: false },
                          detail: { valueAnimation: false, formatter: "{value}%", fontSize: 26, offsetCenter: [0, "10%"] },
                          title: { offsetCenter: [0, "45%"] },
                          data: [{ value: pct(f.share), name: text.pickup + " " + f.pickup + " / " + f.online }] }] };
    },
    on_time: function (f) {
      var o = bar(f.rows.map(function (r) { return r.label; }), f.rows.map(function (r) { return pct(r.rate); }),
                  text.rate, "%");
      o.yAxis.max = 100;
      return o;
    },
    cost: function (f) {
      return { tooltip: { trigger: "axis" }, legend: { bottom: 0 },
               grid: { left: 56, right: 56, top: 44, bottom: 40, containLabel: true },
               xAxis: { type: "category", data: f.rows.map(function (r) { return r.day.slice(5); }) },
               yAxis: [{ type: "value", name: text.avg }, { type: "value", name: text.orders, minInterval: 1 }],
               series: [{ type: "line", name: text.avg, connectNulls: true, symbolSize: 7,
                          data: f.rows.map(function (r) { return yuan(r.avg_fen); }) },
                        { type: "bar", name: text.orders, yAxisIndex: 1, barMaxWidth: 24, itemStyle: { opacity: .35 },
                          data: f.rows.map(function (r) { return r.orders; }) }] };
    },
    stockouts: function (f) {
      var rows = f.rows.slice(0, 10).reverse();
      return { tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { bottom: 0 },
               xAxis: { type: "value", minInterval: 1 },
               yAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
               series: [{ type: "bar", stack: "all", name: text.short, data: rows.map(function (r) { return r.short; }) },
                        { type: "bar", stack: "all", name: text.rejected, data: rows.map(function (r) { return r.rejected; }) }] };
    }
  };

  function draw() {
    if (!window.echarts) { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart");
      if (!builders[name] || !figures[name]) { return; }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(Object.assign({}, base, builders[name](figures[name])));
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
