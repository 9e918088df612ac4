/* Colourings and the timeline of a diffusion cascade.
 *
 * DIFFUSION_VIEWS lists the colourings the page offers (the <select> above the
 * legend switches between them). Each has its final node colours and, when
 * there is something to replay, a timeline: either per-node event times
 * (`times`, -1 = never) with the colour before (`pending`) and from the event
 * on (`final`), or a colour per step and node (`frames`: colours, or indices
 * into `palette`). The slider and the Play button recolour the nodes step by
 * step. Node ids are 0 .. n-1, in the order of the colour arrays. */
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
                              views: views};
})();
