// qc serve: seek the recording from transcript lines and evidence links, highlight the line being played.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var lines = Array.prototype.slice.call(document.querySelectorAll("#transcript .utt[data-start]"));

  function seek(t) {
    if (!player || isNaN(t)) { return; }
    player.currentTime = t;
    var playing = player.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
    highlight(t);
  }

  function highlight(t) {
    var current = null;
    lines.forEach(function (el) {
      var s = parseFloat(el.dataset.start), e = parseFloat(el.dataset.end);
      if (t >= s && t < Math.max(e, s + 0.3)) { current = el; }
    });
    lines.forEach(function (el) { el.classList.toggle("playing", el === current); });
    if (current && current.scrollIntoViewIfNeeded) { current.scrollIntoViewIfNeeded(false); }
  }

  document.querySelectorAll("a.jump").forEach(function (a) {
    a.addEventListener("click", function (ev) { ev.preventDefault(); ev.stopPropagation(); seek(parseFloat(a.dataset.t)); });
  });
  lines.forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (ev.target.closest("button, a, input, select")) { return; }
      seek(parseFloat(el.dataset.start));
    });
  });
  if (player) {
    player.addEventListener("timeupdate", function () { highlight(player.currentTime); });
  }
  document.querySelectorAll("button.mark-missed").forEach(function (b) {
    b.addEventListener("click", function () {
      var inputs = Array.prototype.slice.call(document.querySelectorAll("input.add-utt"));
      var free = inputs.filter(function (i) { return !i.value; })[0] || inputs[inputs.length - 1];
      if (free) { free.value = b.dataset.u; free.focus(); }
    });
  });
})();
