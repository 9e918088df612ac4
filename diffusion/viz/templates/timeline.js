/* Colourings and the timeline of a diffusion cascade.
 *
 * DIFFUSION_VIEWS lists the colourings the page offers (the <select> above the
 * legend switches between them). Each has its final node colours and, when
 * there is something to replay, a timeline: either per-node event times
 * (`times`, -1 = never) with the colour before (`pending`) and from the event
 * on (`final`), or a colour per step and node (`frames`: colours, or indices
 * into `palette`). The slider and the Play button recolour the nodes step by
 * step. Node ids are 0 .. n-1, in the order of the colour arrays. A small curve
 * under the legend (`curve`, a share per time step) carries a marker that
 * follows the slider. */
(function () {
  "use strict";
  var views = DIFFUSION_VIEWS;
  var slider = document.getElementById("timeline-slider");
  var button = document.getElementById("timeline-play");
  var status = document.getElementById("timeline-status");
  var bar = document.getElementById("timeline");
  var select = document.getElementById("color-select");
  var tl = null;
  var shown = views[0].colors.slice();
  var timer = null;
  var curveBox = document.getElementById("curve");
  var SVG = "http://www.w3.org/2000/svg";
  var CW = 200, CH = 64;

  function el(name, attrs) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } }
    return e;
  }

  // A small curve of the view's timeline (adoption or failures) with a marker at the current time.
  function drawCurve() {
    if (!curveBox) { return; }
    while (curveBox.firstChild) { curveBox.removeChild(curveBox.firstChild); }
    if (!tl || !tl.curve || !tl.curve.length) { curveBox.hidden = true; return; }
    curveBox.hidden = false;
    var title = document.createElement("div");
    title.className = "curve-title";
    title.textContent = tl.curve_label;
    curveBox.appendChild(title);
    var svg = el("svg", {width: CW + 34, height: CH + 18, viewBox: "-30 -4 " + (CW + 34) + " " + (CH + 18)});
    svg.appendChild(el("rect", {x: 0, y: 0, width: CW, height: CH, fill: "#f6f7f8", stroke: "#d5d9de"}));
    var n = tl.curve.length, pts = [];
    for (var i = 0; i < n; i++) {
      pts.push((i / Math.max(tl.max, 1) * CW).toFixed(1) + "," + (CH - tl.curve[i] * CH).toFixed(1));
    }
    svg.appendChild(el("polyline", {points: pts.join(" "), fill: "none", stroke: "#0072b2", "stroke-width": 2,
                                    id: "curve-line"}));
    [["100 %", 0], ["0 %", CH]].forEach(function (p) {
      var lab = el("text", {x: -4, y: p[1] + 4, "text-anchor": "end", "font-size": 10, fill: "#555"});
      lab.textContent = p[0];
      svg.appendChild(lab);
    });
    svg.appendChild(el("line", {id: "curve-marker", x1: 0, x2: 0, y1: 0, y2: CH, stroke: "#d55e00",
                                "stroke-width": 1.5}));
    svg.appendChild(el("circle", {id: "curve-dot", cx: 0, cy: CH, r: 3.5, fill: "#d55e00"}));
    curveBox.appendChild(svg);
    var readout = document.createElement("div");
    readout.className = "curve-readout";
    readout.id = "curve-readout";
    curveBox.appendChild(readout);
    if (tl.note) {
      var note = document.createElement("div");
      note.className = "curve-note";
      note.textContent = tl.note;
      curveBox.appendChild(note);
    }
  }

  function moveMarker(t) {
    var m = document.getElementById("curve-marker");
    if (!m || !tl || !tl.curve) { return; }
    var x = (t / Math.max(tl.max, 1) * CW).toFixed(1);
    var v = tl.curve[Math.min(t, tl.curve.length - 1)];
    m.setAttribute("x1", x);
    m.setAttribute("x2", x);
    var dot = document.getElementById("curve-dot");
    dot.setAttribute("cx", x);
    dot.setAttribute("cy", (CH - v * CH).toFixed(1));
    document.getElementById("curve-readout").textContent =
      tl.unit + " " + t + ": " + (100 * v).toFixed(1) + " %";
  }

  function paint(cols) {
    var updates = [];
    for (var i = 0; i < cols.length; i++) {
      if (shown[i] !== cols[i]) {
        shown[i] = cols[i];
        updates.push({id: i, color: {background: cols[i], border: cols[i],
                      highlight: {background: cols[i], border: "#222222"},
                      hover: {background: cols[i], border: "#222222"}}});
      }
    }
    if (updates.length) { nodes.update(updates); }
  }

  function colorsAt(t) {
    if (tl.frames) {
      var row = tl.frames[Math.max(0, Math.min(t, tl.frames.length - 1))];
      if (!tl.palette) { return row; }
      return row.map(function (k) { return tl.palette[k]; });
    }
    var out = new Array(tl.times.length);
    for (var i = 0; i < tl.times.length; i++) {
      var e = tl.times[i];
      out[i] = (e >= 0 && e <= t) ? tl.final[i] : tl.pending[i];
    }
    return out;
  }

  function render(t) {
    if (!tl) { return; }
    t = Math.max(0, Math.min(t, tl.max));
    paint(colorsAt(t));
    status.textContent = tl.status[Math.min(t, tl.status.length - 1)];
    slider.value = String(t);
    moveMarker(t);
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    if (button) { button.textContent = "Play"; }
  }

  function play() {
    if (!tl) { return; }
    var t = Number(slider.value);
    if (t >= tl.max) { t = 0; render(0); }
    button.textContent = "Pause";
    timer = setInterval(function () {
      t += 1;
      render(t);
      if (t >= tl.max) { stop(); }
    }, tl.interval);
  }

  function setView(v) {
    stop();
    tl = views[v].timeline;
    var blocks = document.querySelectorAll(".legend-block");
    for (var b = 0; b < blocks.length; b++) {
      blocks[b].hidden = Number(blocks[b].getAttribute("data-view")) !== v;
    }
    if (bar) { bar.hidden = !tl; }
    if (select) { select.value = String(v); }
    drawCurve();
    if (tl) {
      slider.max = String(tl.max);
      slider.setAttribute("aria-label", tl.label);
      render(tl.max);
    } else {
      paint(views[v].colors);
    }
  }

  if (slider) {
    slider.addEventListener("input", function () { stop(); render(Number(slider.value)); });
    button.addEventListener("click", function () { if (timer === null) { play(); } else { stop(); } });
  }
  if (select) {
    select.addEventListener("change", function () { setView(Number(select.value)); });
  }
  setView(0);
  window.diffusionTimeline = {render: render, colorsAt: colorsAt, play: play, stop: stop, setView: setView,
                              views: views, current: function () { return tl; }};
})();
