// hch jit's page: one timeline of compilations, deoptimizations, storms and the code cache.
// Vanilla JavaScript, no network. The data is the JSON in #hch-data (see html.rs).
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("hch-data").textContent);
  var SVG = "http" + "://www.w3.org/2000/svg"; // a namespace name, never fetched
  var NAME_W = 340, AXIS_H = 22, RATE_H = 56, CACHE_H = 64, ROW_H = 15, GAP = 8;
  var span = D.span, view = { a: span[0], b: span[1] };
  var chart = document.getElementById("chart"), tip = document.getElementById("tip");

  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function secs(ms) { return ms == null ? "?" : (ms / 1000).toFixed(3) + " s"; }
  function bytes(b) {
    if (b == null) return "-";
    if (b >= 1048576) return (b / 1048576).toFixed(1) + " MiB";
    if (b >= 1024) return (b / 1024).toFixed(1) + " KiB";
    return b + " B";
  }
  function width() { return Math.max(chart.clientWidth || 0, 900); }
  function plotW() { return width() - NAME_W - 10; }
  function x(t) { return NAME_W + (t - view.a) / (view.b - view.a) * plotW(); }
  function timeAt(px) { return view.a + (px - NAME_W) / plotW() * (view.b - view.a); }
  function clampView() {
    var w = Math.max(view.b - view.a, 1), full = span[1] - span[0];
    if (w >= full) { view.a = span[0]; view.b = span[1]; return; }
    if (view.a < span[0]) { view.a = span[0]; view.b = span[0] + w; }
    if (view.b > span[1]) { view.b = span[1]; view.a = span[1] - w; }
  }

  // When a version's code ran: from install to its end (or the next version, or the span's end).
  function versionRange(m, v, i) {
    var from = v.start_ms != null ? v.start_ms + (v.duration_ms || 0) : v.queued_ms;
    var to = v.end && v.end.at_ms != null ? v.end.at_ms : null;
    if (to == null && v.end) {
      var next = m.versions.find(function (w) { return w.compile_id === v.end.replaced_by; });
      to = next ? next.start_ms : null;
    }
    if (to == null) to = span[1];
    if (from == null) from = span[0];
    return [from, Math.max(to, from)];
  }

  function history(m) {
    var lines = [];
    m.versions.forEach(function (v) {
      var s = "#" + v.compile_id + " tier " + (v.level == null ? "?" : v.level) + (v.osr ? " OSR" + (v.osr_bci != null ? " @" + v.osr_bci : "") : "");
      if (v.duration_ms != null) s += ", " + v.duration_ms.toFixed(2) + " ms";
      if (v.code_size != null) s += ", " + bytes(v.code_size);
      if (v.failure) s += ", FAILED: " + v.failure;
      if (v.end) s += "; ended " + secs(v.end.at_ms) + ": " + v.end.reason;
      lines.push([v.start_ms != null ? v.start_ms : v.queued_ms, s]);
    });
    m.deopts.forEach(function (d) {
      var s = (d.frame ? "frame deoptimized: " : "trap ") + d.reason + (d.action ? " (" + d.action + ")" : "");
      if (d.compile_id != null) s += " in #" + d.compile_id;
      if (d.bci != null) s += " at bci " + d.bci;
      if (d.instruction) s += " (" + d.instruction + ")";
      if (d.inlined) s += ", inlined " + d.inlined;
      lines.push([d.at_ms, s]);
    });
    lines.sort(function (p, q) { return (p[0] == null ? 1e300 : p[0]) - (q[0] == null ? 1e300 : q[0]); });
    return lines.map(function (l) { return ("         " + secs(l[0])).slice(-11) + "  " + l[1]; }).join("\n");
  }

  function stateWords(s) {
    if (!s) return "";
    if (s.state === "compiled") return "compiled, tier " + s.level + (s.osr ? " (OSR only)" : "");
    if (s.state === "deoptimized") return "interpreted (" + s.reason + ")";
    if (s.state === "failed") return "not compiled (" + s.reason + ")";
    return "unknown";
  }

  function tipFor(t) {
    var ds = t.dataset, m = ds.m != null ? D.methods[+ds.m] : null;
    if (ds.storm != null) {
      var s = D.storms[+ds.storm];
      return "storm " + secs(s.start_ms) + " to " + secs(s.end_ms) + ": " + s.cause + "\n" + s.explanation +
        "\n" + s.traps + " traps, " + s.invalidations + " thrown away, " + s.recompiles + " recompiles, " + s.methods + " methods";
    }
    if (ds.marker != null) { var k = D.markers[+ds.marker]; return secs(k.at_ms) + " " + k.kind + ": " + k.detail; }
    if (ds.cache != null) { var c = D.code_cache[+ds.cache]; return secs(c.at_ms) + " " + c.heap + ": used " + bytes(c.used) + ", free " + bytes(c.free) + (c.capacity ? " of " + bytes(c.capacity) : ""); }
    if (ds.bin != null) {
      var r = D.rates, i = +ds.bin;
      return secs(r.start + i * r.bin_ms) + " +" + r.bin_ms + " ms: " + r.compiles[i] + " compiles, " + r.recompiles[i] + " recompiles, " + r.traps[i] + " traps, " + r.invalidations[i] + " thrown away";
    }
    if (!m) return null;
    var head = m.name + "\n" + stateWords(m.state) + (D.hot[m.name] !== undefined ? "  [hot" + (D.hot[m.name] != null ? " " + D.hot[m.name].toFixed(1) + "%" : "") + "]" : "");
    if (ds.v != null) {
      var v = m.versions[+ds.v];
      head += "\n> #" + v.compile_id + " tier " + v.level + (v.thread != null ? " on " + D.threads[v.thread] : "");
    }
    if (ds.d != null) { var d = m.deopts[+ds.d]; head += "\n> trap " + d.reason + " at " + secs(d.at_ms); }
    return head + "\n\n" + history(m);
  }

  function render() {
    clampView();
    var W = width(), rows = D.methods.length;
    var top = AXIS_H, rateY = top, cacheY = rateY + RATE_H + GAP, rowsY = cacheY + CACHE_H + GAP;
    var H = rowsY + rows * ROW_H + 4;
    chart.textContent = "";
    var svg = el("svg", { width: W, height: H, id: "svg" }, chart);
    // Grid and axis.
    var step = niceStep((view.b - view.a) / 8);
    for (var t = Math.ceil(view.a / step) * step; t <= view.b; t += step) {
      el("line", { x1: x(t), x2: x(t), y1: 14, y2: H, class: "grid" }, svg);
      el("text", { x: x(t) + 2, y: 12 }, svg).textContent = secs(t);
    }
    el("text", { x: 4, y: 12 }, svg).textContent = "ms since JVM start";
    // Storms across everything.
    D.storms.forEach(function (s, i) {
      var a = Math.max(x(s.start_ms), NAME_W), b = Math.min(x(s.end_ms), W);
      if (b < NAME_W || a > W) return;
      el("rect", { x: a, y: 14, width: Math.max(b - a, 3), height: H - 14, class: "storm", "data-storm": i }, svg);
    });
    rateLane(svg, rateY);
    cacheLane(svg, cacheY);
    D.methods.forEach(function (m, i) { methodRow(svg, m, i, rowsY + i * ROW_H, W); });
    D.markers.forEach(function (k, i) {
      if (k.at_ms < view.a || k.at_ms > view.b) return;
      el("line", { x1: x(k.at_ms), x2: x(k.at_ms), y1: 14, y2: H, class: "marker", "data-marker": i }, svg);
    });
    D.cache_events.forEach(function (e) {
      if (e.at_ms == null || e.at_ms < view.a || e.at_ms > view.b) return;
      el("line", { x1: x(e.at_ms), x2: x(e.at_ms), y1: cacheY, y2: cacheY + CACHE_H, class: "full" }, svg);
    });
    document.getElementById("view").textContent = secs(view.a) + " to " + secs(view.b);
  }

  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-3))));
    var m = [1, 2, 5, 10].find(function (k) { return k * p >= raw; });
    return m * p;
  }

  function rateLane(svg, y0) {
    var r = D.rates, max = 1;
    el("text", { x: 4, y: y0 + 14 }, svg).textContent = "compiles (grey), traps (red), thrown away (purple) per " + r.bin_ms + " ms";
    for (var i = 0; i < r.compiles.length; i++) max = Math.max(max, r.compiles[i], r.traps[i] + r.invalidations[i]);
    var bw = Math.max(r.bin_ms / (view.b - view.a) * plotW(), 1);
    for (var j = 0; j < r.compiles.length; j++) {
      var t = r.start + j * r.bin_ms;
      if (t + r.bin_ms < view.a || t > view.b) continue;
      var bx = x(t), h = function (n) { return n / max * (RATE_H - 4); };
      if (r.compiles[j]) el("rect", { x: bx, y: y0 + RATE_H - h(r.compiles[j]), width: bw, height: h(r.compiles[j]), fill: "#bbb", "data-bin": j }, svg);
      if (r.traps[j]) el("rect", { x: bx, y: y0 + RATE_H - h(r.traps[j]), width: bw, height: h(r.traps[j]), fill: "#d00", "data-bin": j }, svg);
      if (r.invalidations[j]) el("rect", { x: bx, y: y0 + RATE_H - h(r.traps[j] + r.invalidations[j]), width: bw, height: h(r.invalidations[j]), fill: "#7b3294", "data-bin": j }, svg);
    }
  }

  function cacheLane(svg, y0) {
    var byHeap = {}, max = 1, useFree = false;
    D.code_cache.forEach(function (c, i) {
      var v = c.used != null ? c.used : c.free;
      if (c.used == null) useFree = true;
      if (v == null) return;
      (byHeap[c.heap] = byHeap[c.heap] || []).push([c.at_ms, v, i]);
      max = Math.max(max, c.capacity || v);
    });
    el("text", { x: 4, y: y0 + 14 }, svg).textContent = "code cache " + (useFree ? "free" : "used") + " (max " + bytes(max) + ")";
    var colors = ["#2b8cbe", "#e6550d", "#31a354", "#756bb1", "#636363"], k = 0;
    Object.keys(byHeap).forEach(function (heap) {
      var pts = byHeap[heap], color = colors[k++ % colors.length], d = "";
      pts.forEach(function (p) {
        var px = x(p[0]), py = y0 + CACHE_H - p[1] / max * (CACHE_H - 4);
        d += (d ? " L" : "M") + px.toFixed(1) + " " + py.toFixed(1);
        if (p[0] >= view.a && p[0] <= view.b) el("circle", { cx: px, cy: py, r: 2, fill: color, "data-cache": p[2] }, svg);
      });
      el("path", { d: d, fill: "none", stroke: color, "stroke-width": 1.2, class: "heap", "data-heap": heap }, svg);
      el("text", { x: 4, y: y0 + 28 + 12 * (k - 1), fill: color }, svg).textContent = heap;
    });
  }

  function methodRow(svg, m, i, y, W) {
    var g = el("g", { class: "row" + (D.hot[m.name] !== undefined ? " hot" : ""), "data-method": m.name, "data-m": i }, svg);
    el("rect", { x: 0, y: y, width: W, height: ROW_H, fill: "transparent", class: "bg", "data-m": i }, g);
    var name = m.name.length > 52 ? "\u2026" + m.name.slice(-51) : m.name;
    el("text", { x: 4, y: y + 11, class: "name", "data-m": i }, g).textContent = name;
    m.versions.forEach(function (v, j) {
      var r = versionRange(m, v, j), a = Math.max(x(r[0]), NAME_W), b = Math.min(x(r[1]), W);
      if (b < NAME_W || a > W) return;
      var cls = "v t" + (v.level == null ? 0 : v.level) + (v.osr ? " osr" : "") + (v.failure ? " failed" : "");
      var h = v.osr ? ROW_H / 2 - 1 : ROW_H - 4, top = v.osr ? y + ROW_H / 2 : y + 2;
      el("rect", { x: a, y: top, width: Math.max(b - a, 2), height: h, class: cls, "data-m": i, "data-v": j }, g);
    });
    m.deopts.forEach(function (d, j) {
      if (d.at_ms < view.a || d.at_ms > view.b) return;
      var px = x(d.at_ms);
      el("path", { d: "M" + px + " " + (y + 1) + " l4 6 l-8 0 z", class: d.frame ? "frame" : "trap", "data-m": i, "data-d": j }, g);
    });
  }

  function table(id, head, rows, numeric, rowClass) {
    var t = document.getElementById(id);
    t.textContent = "";
    if (!rows.length) { t.insertRow().insertCell().textContent = "none"; return; }
    var hr = t.createTHead().insertRow();
    head.forEach(function (h, i) {
      var th = document.createElement("th");
      th.textContent = h;
      if (numeric.indexOf(i) >= 0) th.className = "n";
      hr.appendChild(th);
    });
    var body = t.createTBody();
    rows.forEach(function (r, k) {
      var tr = body.insertRow();
      if (rowClass) tr.className = rowClass(k);
      r.forEach(function (c, i) {
        var td = tr.insertCell();
        td.textContent = c == null ? "-" : c;
        if (numeric.indexOf(i) >= 0) td.className = "n";
      });
    });
  }

  function tables() {
    table("storms", ["from", "to", "cause", "traps", "thrown away", "recompiles", "methods", "peak /s", "explanation"],
      D.storms.map(function (s) { return [secs(s.start_ms), secs(s.end_ms), s.cause, s.traps, s.invalidations, s.recompiles, s.methods, s.peak_per_s.toFixed(0), s.explanation]; }), [3, 4, 5, 6, 7]);
    var churn = D.churn.methods;
    table("churn", ["method", "recompiles", "traps", "thrown away", "compiles", "top trap reason", "state", "hot %"],
      churn.map(function (c) { return [c.method, c.recompiles, c.traps, c.invalidations, c.compiles, c.top_reason, c.state, c.hot_percent == null ? (c.hot ? "hot" : null) : c.hot_percent.toFixed(1)]; }),
      [1, 2, 3, 4, 7], function (k) { return churn[k].hot ? "hot" : ""; });
    table("reasons", ["reason", "traps", "%", "methods", "actions"],
      D.churn.reasons.map(function (r) { return [r.reason, r.count, r.percent.toFixed(1), r.methods, Object.keys(r.actions).map(function (a) { return a + " " + r.actions[a]; }).join(", ")]; }), [1, 2, 3]);
    table("threads", ["compiler thread", "compiles", "busy", "utilization", "bytecode/s", "longest"],
      D.load.threads.map(function (t) { return [t.thread, t.compiles, secs(t.busy_ms), (100 * t.utilization).toFixed(0) + "%", t.bytes_per_s ? bytes(t.bytes_per_s) : null, t.longest_ms.toFixed(1) + " ms " + t.longest]; }), [1, 2, 3, 4]);
    table("tiers", ["tier", "compiles", "failed", "total", "mean ms", "max ms", "code"],
      D.load.tiers.map(function (t) { return [t.level, t.compiles, t.failed, secs(t.total_ms), t.mean_ms.toFixed(2), t.max_ms.toFixed(1), bytes(t.code_bytes)]; }), [1, 2, 3, 4, 5, 6]);
    table("queues", ["queue", "longest", "waits", "mean wait ms", "p95 ms", "max ms"],
      D.load.queues.map(function (q) { return [q.compiler, q.max_size, q.waits, q.mean_wait_ms == null ? null : q.mean_wait_ms.toFixed(1), q.p95_wait_ms, q.max_wait_ms]; }), [1, 2, 3, 4, 5]);
    table("heaps", ["heap", "samples", "first used", "last used", "peak used", "least free", "size"],
      D.heaps.map(function (h) { return [h.heap, h.samples, bytes(h.first_used), bytes(h.last_used), bytes(h.peak_used), bytes(h.min_free), bytes(h.capacity)]; }), [1, 2, 3, 4, 5, 6]);
    table("cache-events", ["at", "event", "heap", "detail"],
      D.cache_events.map(function (e) { return [secs(e.at_ms), e.kind, e.heap, e.detail]; }), []);
  }

  function zoom(factor, at) {
    var t = at == null ? (view.a + view.b) / 2 : at;
    var w = Math.max((view.b - view.a) * factor, 1);
    var f = (t - view.a) / (view.b - view.a);
    view.a = t - f * w; view.b = view.a + w;
    render();
  }

  function wire() {
    document.getElementById("zoom-in").onclick = function () { zoom(0.5); };
    document.getElementById("zoom-out").onclick = function () { zoom(2); };
    document.getElementById("reset").onclick = function () { view.a = span[0]; view.b = span[1]; render(); };
    document.addEventListener("keydown", function (e) {
      if (e.key === "+" || e.key === "=") zoom(0.5);
      else if (e.key === "-") zoom(2);
      else if (e.key === "0") { view.a = span[0]; view.b = span[1]; render(); }
    });
    chart.addEventListener("wheel", function (e) {
      var r = chart.getBoundingClientRect(), px = e.clientX - r.left;
      if (px < NAME_W) return;
      e.preventDefault();
      zoom(e.deltaY > 0 ? 1.25 : 0.8, timeAt(px));
    }, { passive: false });
    var drag = null;
    chart.addEventListener("mousedown", function (e) { drag = { x: e.clientX, a: view.a, b: view.b }; chart.classList.add("dragging"); });
    window.addEventListener("mouseup", function () { drag = null; chart.classList.remove("dragging"); });
    chart.addEventListener("mousemove", function (e) {
      if (drag) {
        var dt = (e.clientX - drag.x) / plotW() * (drag.b - drag.a);
        view.a = drag.a - dt; view.b = drag.b - dt;
        render();
        return;
      }
      var text = tipFor(e.target);
      if (!text) { tip.hidden = true; return; }
      tip.textContent = text;
      tip.hidden = false;
      var left = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
      var top = Math.min(e.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
      tip.style.left = Math.max(left, 0) + "px";
      tip.style.top = Math.max(top, 0) + "px";
    });
    chart.addEventListener("mouseleave", function () { tip.hidden = true; });
    window.addEventListener("resize", render);
  }

  document.getElementById("title").textContent = D.title;
  var s = D.summary;
  document.getElementById("source").textContent = s.methods + " methods, " + s.compiles + " compiles (" + s.failed + " failed), " +
    s.recompiles + " recompiles, " + s.traps + " uncommon traps, " + s.invalidations + " versions thrown away; " +
    secs(span[0]) + " to " + secs(span[1]) + (s.source.time_base === "jvm_start" ? " after the JVM started" : " after the recording started") +
    (D.methods.length < s.methods ? "; rows: the " + D.methods.length + " methods that churn, are hot or trapped" : "");
  tables();
  wire();
  render();
  document.documentElement.dataset.ready = "1";
})();
