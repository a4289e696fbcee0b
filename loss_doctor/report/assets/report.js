/* loss-doctor interactive report: the charts of index.html, drawn with uPlot.
 *
 * The page's data is the JSON in <script id="ld-data">; every name in it is
 * data from logs and is only ever set as textContent, never as markup.
 * Charts are built when they come near the viewport (or when a finding is
 * clicked), and kept in window.ldCharts by key "run-chart" ("sweep-role"
 * for the sweep view) so that they can be inspected.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ld-data").textContent);
  var charts = {};
  window.ldCharts = charts;
  var weight = 0.6;
  /* colours and heights come with the data: html.py's STYLE is their one source */
  var PALETTE = data.style.palette, SEV = data.style.severity;
  var HEIGHT = data.style.heights, SWEEP_HEIGHT = data.style.sweep_heights;

  function css(name) {
    return getComputedStyle(document.body).getPropertyValue(name).trim() || "#888";
  }
  function rgba(rgb, a) { return "rgba(" + rgb.join(",") + "," + a + ")"; }
  function fmt(v) {
    if (v == null) return "–";
    var a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(3) : +v.toPrecision(5) + "";
  }
  function ticks(u, splits) {
    return splits.map(function (v) {
      if (v == null) return "";
      var a = Math.abs(v);
      return a !== 0 && (a < 1e-2 || a >= 1e5) ? v.toExponential(a < 1e-2 ? 0 : 1)
        .replace("e-", "e−").replace("e+", "e") : +v.toPrecision(4) + "";
    });
  }
  function when(t) {
    if (t == null) return null;
    return new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  /* TensorBoard's smoothing: a debiased EMA; missing points pass through. */
  function ema(ys, w) {
    var out = new Array(ys.length), s = 0, k = 0;
    for (var i = 0; i < ys.length; i++) {
      var v = ys[i];
      if (v == null) { out[i] = null; continue; }
      s = w * s + (1 - w) * v; k++;
      out[i] = w > 0 ? s / (1 - Math.pow(w, k)) : v;
    }
    return out;
  }

  function positive(cols) {
    var lo = Infinity, hi = -Infinity;
    cols.forEach(function (c) {
      for (var i = 0; i < c.length; i++) {
        var v = c[i];
        if (v == null) continue;
        if (v <= 0) { lo = -Infinity; return; }
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    });
    return lo > 0 ? hi / lo : 0;
  }

  /* ---------------------------------------------------------------- runs */

  function layout(run, chart) {
    var tables = chart.series.map(function (s) { return [s.x, s.y]; });
    var joined = tables.length > 1 ? uPlot.join(tables) : [chart.series[0].x,
                                                           chart.series[0].y];
    var raw = joined.slice(1);
    var walls = chart.series.map(function (s) {
      if (!s.t) return null;
      var m = new Map();
      for (var i = 0; i < s.x.length; i++) m.set(s.x[i], s.t[i] == null ? null : s.t0 + s.t[i]);
      return m;
    });
    return {x: joined[0], raw: raw, walls: walls};
  }

  function columns(info, chart) {
    var cols = [info.x];
    chart.series.forEach(function (s, i) {
      cols.push(info.raw[i]);
      if (!s.sparse) cols.push(ema(info.raw[i], weight));
    });
    return cols;
  }

  function findingsOn(ri, chart) {
    var names = {};
    chart.series.forEach(function (s) { names[s.name] = true; });
    return data.findings.filter(function (f) {
      return f.run_index === ri && f.severity !== "info" &&
        f.metrics.some(function (m) { return names[m]; });
    });
  }

  function drawMarks(u, marks, best) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    ctx.font = Math.round(11 * devicePixelRatio) + "px system-ui, sans-serif";
    marks.forEach(function (f) {
      var x0 = u.valToPos(f.start, "x", true), x1 = u.valToPos(f.end, "x", true);
      var w = Math.max(x1 - x0, 3 * devicePixelRatio);
      ctx.fillStyle = rgba(SEV[f.severity], 0.13);
      ctx.fillRect(x0, top, w, h);
      ctx.fillStyle = rgba(SEV[f.severity], 0.95);
      ctx.fillText(f.code, x0 + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
    });
    if (best != null) {
      var bx = u.valToPos(best, "x", true);
      ctx.strokeStyle = css("--best");
      ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.lineWidth = devicePixelRatio;
      ctx.beginPath(); ctx.moveTo(bx, top); ctx.lineTo(bx, top + h); ctx.stroke();
      ctx.fillStyle = css("--best");
      ctx.fillText("\u2605 best", bx + 3 * devicePixelRatio, top + h - 6 * devicePixelRatio);
    }
    ctx.restore();
  }

  function tooltipHook(tip, run, chart, info) {
    return function (u) {
      var i = u.cursor.idx;
      if (i == null) { tip.style.display = "none"; return; }
      tip.textContent = "";
      var x = info.x[i];
      tip.appendChild(el("div", "tip-x", run.unit + " " + x));
      var col = 1, shown = 0;
      chart.series.forEach(function (s, k) {
        var rawCol = col, smCol = s.sparse ? null : col + 1;
        col += s.sparse ? 1 : 2;
        if (!u.series[smCol || rawCol].show) return;
        var v = u.data[rawCol][i];
        if (v == null) return;
        var row = el("div", "tip-row");
        var sw = el("span", "sw"); sw.style.background = PALETTE[k % PALETTE.length];
        row.appendChild(sw);
        row.appendChild(el("span", "tip-name", s.name));
        row.appendChild(el("span", "tip-val", fmt(v)));
        if (smCol != null) row.appendChild(el("span", "tip-sm", "smoothed " + fmt(u.data[smCol][i])));
        var t = info.walls[k] && when(info.walls[k].get(x));
        if (t) row.appendChild(el("span", "tip-t", t));
        tip.appendChild(row); shown++;
      });
      if (!shown) { tip.style.display = "none"; return; }
      tip.style.display = "block";
      var left = u.cursor.left, width = u.over.clientWidth;
      tip.style.left = (left > width / 2 ? left - tip.offsetWidth - 12 : left + 12) + "px";
      tip.style.top = Math.max(0, u.cursor.top - 10) + "px";
    };
  }

  function buildRunChart(key) {
    var box = document.querySelector('[data-chart-key="' + key + '"]');
    if (!box || charts[key]) return charts[key];
    var ri = +box.dataset.run, ci = +box.dataset.chart;
    var run = data.runs[ri], chart = run.charts[ci];
    var info = layout(run, chart);
    var state = box._state || (box._state = {log: null});
    var ratio = positive(info.raw);
    if (state.log == null) state.log = (chart.group === "losses" || chart.group === "errors")
      && ratio > 10;
    var series = [{label: run.unit}];
    chart.series.forEach(function (s, k) {
      var c = PALETTE[k % PALETTE.length];
      if (s.sparse) {
        series.push({label: s.name, stroke: c, width: 1.6, spanGaps: true,
                     points: {show: true, size: 5, fill: c}});
      } else {
        series.push({label: s.name + " (raw)", stroke: c + "55", width: 1, spanGaps: false,
                     points: {show: false}, raw: true});
        series.push({label: s.name, stroke: c, width: 1.8, spanGaps: true,
                     points: {show: false}});
      }
    });
    var marks = findingsOn(ri, chart);
    var best = run.best && chart.series.some(function (s) { return s.name === run.best.metric; })
      ? run.best.step : null;
    var plot = box.querySelector(".plot");
    plot.textContent = "";
    var tip = el("div", "tip");
    var fg = css("--fg"), grid = css("--grid");
    var axis = {stroke: fg, grid: {stroke: grid, width: 1}, ticks: {stroke: grid, width: 1}};
    var yaxis = Object.assign({size: 60, values: ticks, space: 24}, axis);
    var opts = {
      width: Math.max(200, plot.clientWidth), height: HEIGHT[chart.group] || 200,
      scales: {x: {time: false}, y: {distr: state.log && ratio > 0 ? 3 : 1}},
      series: series,
      axes: [Object.assign({label: run.unit}, axis), yaxis],
      cursor: {drag: {x: true, y: false}, points: {size: 6}},
      legend: {show: true, live: false},
      hooks: {
        draw: [function (u) { drawMarks(u, marks, best); }],
        setCursor: [tooltipHook(tip, run, chart, info)],
        setSeries: [function (u, i, o) {  /* a metric's raw line follows its smoothed one */
          if (i != null && o && "show" in o && u.series[i - 1] && u.series[i - 1].raw &&
              u.series[i - 1].show !== o.show) u.setSeries(i - 1, {show: o.show});
        }],
      },
    };
    var u = new uPlot(opts, columns(info, chart), plot);
    u.over.appendChild(tip);
    var rows = u.root.querySelectorAll(".u-legend .u-series");
    var off = series.length - rows.length;  /* the x series may have no row */
    rows.forEach(function (row, i) {
      if (series[i + off] && series[i + off].raw) row.style.display = "none";
    });
    charts[key] = {u: u, info: info, chart: chart, run: run, marks: marks};
    return charts[key];
  }

  function rebuild(key) {
    var c = charts[key];
    if (c) { c.u.destroy(); delete charts[key]; }
    return buildRunChart(key);
  }

  /* ---------------------------------------------------------------- sweep */

  function buildSweep(role) {
    var key = "sweep-" + role;
    var box = document.querySelector('[data-chart-key="' + key + '"]');
    if (!box || charts[key]) return charts[key];
    var grid = data.grids[role];
    if (!grid) return null;
    var G = grid.n, lo = grid.lo, span = grid.hi > grid.lo ? grid.hi - grid.lo : 1;
    var members = data.sweep_order.filter(function (ri) { return data.runs[ri].grid[role]; });
    if (!members.length) return null;
    var xs = new Array(G);
    for (var g = 0; g < G; g++) xs[g] = lo + span * g / (G - 1);
    var cols = [xs], series = [{label: "step"}], all = [];
    members.forEach(function (ri) {
      var run = data.runs[ri], ys = run.grid[role];
      for (var i = 0; i < ys.length; i++) if (ys[i] != null) all.push(ys[i]);
      cols.push(ys);
      var colour = run.worst ? rgba(SEV[run.worst], 0.9) :
        PALETTE[ri % PALETTE.length] + "99";
      series.push({label: run.run, stroke: colour, width: run.worst ? 1.6 : 1,
                   spanGaps: true, points: {show: false}});
    });
    var ratio = positive([all]);
    var plot = box.querySelector(".plot");
    plot.textContent = "";
    var tip = el("div", "tip");
    var fg = css("--fg"), grid = css("--grid");
    var axis = {stroke: fg, grid: {stroke: grid, width: 1}, ticks: {stroke: grid, width: 1}};
    var focused = null;
    var u = new uPlot({
      width: Math.max(200, plot.clientWidth),
      height: SWEEP_HEIGHT[role.indexOf("loss") >= 0 ? "loss" : "other"],
      scales: {x: {time: false}, y: {distr: role.indexOf("loss") >= 0 && ratio > 10 ? 3 : 1}},
      series: series, legend: {show: false},
      axes: [Object.assign({label: "step"}, axis), Object.assign({size: 60, values: ticks}, axis)],
      focus: {alpha: 0.25}, cursor: {focus: {prox: 24}, drag: {x: true, y: false}},
      hooks: {
        setSeries: [function (u, i, o) { if (o && o.focus) focused = i; }],
        setCursor: [function (u) {
          var i = u.cursor.idx;
          if (i == null || focused == null || !u.series[focused].show) {
            tip.style.display = "none"; return;
          }
          tip.textContent = "";
          tip.appendChild(el("div", "tip-x", u.series[focused].label));
          tip.appendChild(el("div", "tip-row", "step " + Math.round(xs[i]) + ": " +
                             fmt(u.data[focused][i])));
          tip.style.display = "block";
          var left = u.cursor.left;
          tip.style.left = (left > u.over.clientWidth / 2 ? left - tip.offsetWidth - 12
                            : left + 12) + "px";
          tip.style.top = Math.max(0, u.cursor.top - 10) + "px";
        }],
      },
    }, cols, plot);
    u.over.appendChild(tip);
    charts[key] = {u: u, members: members, role: role};
    applyFilter();
    return charts[key];
  }

  function applyFilter() {
    var box = document.getElementById("sweep-filter");
    var q = box ? box.value.trim().toLowerCase() : "";
    var keep = function (ri) { return !q || data.runs[ri].run.toLowerCase().indexOf(q) >= 0; };
    Object.keys(charts).forEach(function (key) {
      var c = charts[key];
      if (!c.members) return;
      c.u.batch(function () {
        c.members.forEach(function (ri, j) {
          var show = keep(ri);
          if (c.u.series[j + 1].show !== show) c.u.setSeries(j + 1, {show: show});
        });
      });
    });
    var n = 0;
    document.querySelectorAll("#sweep-legend li, #runs tbody tr").forEach(function (row) {
      var show = keep(+row.dataset.run);
      row.style.display = show ? "" : "none";
      if (show && row.tagName === "LI") n++;
    });
    var count = document.getElementById("sweep-count");
    if (count) count.textContent = n + " of " + data.sweep_order.length + " runs";
  }

  /* ---------------------------------------------------------------- page */

  function build(key) {
    return key.indexOf("sweep-") === 0 ? buildSweep(key.slice(6)) : buildRunChart(key);
  }

  var seen = new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      if (e.isIntersecting) { build(e.target.dataset.chartKey); seen.unobserve(e.target); }
    });
  }, {rootMargin: "400px"});
  document.querySelectorAll("[data-chart-key]").forEach(function (box) { seen.observe(box); });

  var resized = new ResizeObserver(function (entries) {
    entries.forEach(function (e) {
      var c = charts[e.target.dataset.chartKey];
      var w = e.target.querySelector(".plot").clientWidth;
      if (c && w > 0 && Math.abs(c.u.width - w) > 2) c.u.setSize({width: w, height: c.u.height});
    });
  });
  document.querySelectorAll("[data-chart-key]").forEach(function (box) { resized.observe(box); });

  document.querySelectorAll("button.log").forEach(function (b) {
    b.addEventListener("click", function () {
      var box = b.closest("[data-chart-key]");
      box._state = box._state || {log: false};
      if (charts[box.dataset.chartKey]) box._state.log = !box._state.log;
      rebuild(box.dataset.chartKey);
      b.textContent = box._state.log ? "linear y" : "log y";
    });
  });

  var slider = document.getElementById("smoothing");
  if (slider) {
    var shown = document.getElementById("smoothing-value");
    slider.addEventListener("input", function () {
      weight = +slider.value;
      shown.textContent = weight.toFixed(2);
      Object.keys(charts).forEach(function (key) {
        var c = charts[key];
        if (!c.info) return;
        c.u.setData(columns(c.info, c.chart), false);
        c.u.redraw();
      });
    });
  }

  /* a finding clicked: its chart, zoomed to its span */
  function zoomTo(f) {
    var run = data.runs[f.run_index];
    var ci = run.charts.findIndex(function (chart) {
      return chart.series.some(function (s) { return f.metrics.indexOf(s.name) >= 0; });
    });
    if (ci < 0) return null;
    var key = f.run_index + "-" + ci;
    var c = build(key);
    if (!c) return null;
    var box = document.querySelector('[data-chart-key="' + key + '"]');
    box.scrollIntoView({block: "center"});
    var xs = c.info.x, full = xs[xs.length - 1] - xs[0];
    var pad = Math.max((f.end - f.start) * 0.25, full * 0.01, 1);
    c.u.setScale("x", {min: f.start - pad, max: f.end + pad});
    box.classList.add("flash");
    setTimeout(function () { box.classList.remove("flash"); }, 900);
    return key;
  }
  window.ldZoomTo = function (i) { return zoomTo(data.findings[i]); };
  document.querySelectorAll("[data-finding]").forEach(function (node) {
    node.addEventListener("click", function (ev) {
      if (ev.target.closest("a, summary, details")) return;
      zoomTo(data.findings[+node.dataset.finding]);
    });
  });

  var filter = document.getElementById("sweep-filter");
  if (filter) filter.addEventListener("input", applyFilter);

  document.querySelectorAll("#runs th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () {
      var k = th.dataset.sort, body = document.querySelector("#runs tbody");
      var asc = th.dataset.dir !== "asc";
      th.parentNode.querySelectorAll("th").forEach(function (o) { delete o.dataset.dir; });
      th.dataset.dir = asc ? "asc" : "desc";
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.dataset[k], y = b.dataset[k];
        if (x === "" && y === "") return 0;
        if (x === "") return 1;
        if (y === "") return -1;
        var d = isNaN(+x) ? (x < y ? -1 : x > y ? 1 : 0) : +x - +y;
        return asc ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  if (filter) applyFilter();
})();
