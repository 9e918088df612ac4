/* Timeline of a diffusion cascade: a slider and a play button that recolour
 * the nodes step by step. DIFFUSION_TIMELINE holds either per-node event times
 * (`times`, -1 = never) with the colour before (`pending`) and from the event
 * on (`final`), or a colour per step and node (`frames`: colours, or indices
 * into `palette`). */
(function () {
  "use strict";
  var tl = DIFFUSION_TIMELINE;
  var slider = document.getElementById("timeline-slider");
  var button = document.getElementById("timeline-play");
  var status = document.getElementById("timeline-status");
  var ids = tl.ids;
  var shown = {};
  var timer = null;

  function colorsAt(t) {
    if (tl.frames) {
      var row = tl.frames[Math.max(0, Math.min(t, tl.frames.length - 1))];
      if (!tl.palette) { return row; }
      return row.map(function (k) { return tl.palette[k]; });
    }
    var out = new Array(ids.length);
    for (var i = 0; i < ids.length; i++) {
      var e = tl.times[i];
      out[i] = (e >= 0 && e <= t) ? tl.final[i] : tl.pending[i];
    }
    return out;
  }

  function render(t) {
    var cols = colorsAt(t);
    var updates = [];
    for (var i = 0; i < ids.length; i++) {
      if (shown[ids[i]] !== cols[i]) {
        shown[ids[i]] = cols[i];
        updates.push({id: ids[i], color: {background: cols[i], border: cols[i],
                      highlight: {background: cols[i], border: "#222222"},
                      hover: {background: cols[i], border: "#222222"}}});
      }
    }
    if (updates.length) { nodes.update(updates); }
    status.textContent = tl.status[Math.max(0, Math.min(t, tl.status.length - 1))];
    slider.value = String(t);
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    button.textContent = "Play";
  }

  function play() {
    var t = Number(slider.value);
    if (t >= tl.max) { t = 0; render(0); }
    button.textContent = "Pause";
    timer = setInterval(function () {
      t += 1;
      render(Math.min(t, tl.max));
      if (t >= tl.max) { stop(); }
    }, tl.interval);
  }

  for (var i = 0; i < ids.length; i++) { shown[ids[i]] = tl.final[i]; }
  slider.addEventListener("input", function () { stop(); render(Number(slider.value)); });
  button.addEventListener("click", function () { if (timer === null) { play(); } else { stop(); } });
  render(tl.max);
  window.diffusionTimeline = {render: render, colorsAt: colorsAt, play: play, stop: stop};
})();
