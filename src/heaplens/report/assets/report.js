(function () {
  "use strict";
  var doc = null;
  try { doc = JSON.parse(document.getElementById("heaplens-report").textContent); } catch (err) { doc = null; }
  function size(n) {
    if (typeof n !== "number") return "–";
    var a = Math.abs(n), s = n < 0 ? "-" : "";
    if (a < 1048576) return s + (a / 1024).toFixed(1) + "KiB";
    if (a < 1073741824) return s + (a / 1048576).toFixed(1) + "MiB";
    return s + (a / 1073741824).toFixed(2) + "GiB";
  }
  // copy buttons
  Array.prototype.forEach.call(document.querySelectorAll("button.copy-btn"), function (b) {
    b.addEventListener("click", function () {
      var text = b.getAttribute("data-copy") || "";
      function done(ok) { b.textContent = ok ? "copied" : "select + copy"; setTimeout(function () { b.textContent = "copy"; }, 1500); }
      function fallback() {
        var ta = document.createElement("textarea");
        ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.opacity = "0";
        document.body.appendChild(ta); ta.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
        document.body.removeChild(ta); done(ok);
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
      } else { fallback(); }
    });
  });
  // hover read-outs on the RSS timelines
  var charts = document.querySelectorAll("svg.timeline");
  Array.prototype.forEach.call(charts, function (svg) {
    var lane = doc && doc.lanes ? doc.lanes[+svg.getAttribute("data-lane")] : null;
    var tl = lane && lane.timeline ? lane.timeline : {};
    var samples = tl.samples || [], files = tl.files || [];
    if (!samples.length) return;
    var x0 = +svg.getAttribute("data-x0"), x1 = +svg.getAttribute("data-x1"), tmax = +svg.getAttribute("data-tmax");
    var top = +svg.getAttribute("data-top"), bottom = +svg.getAttribute("data-bottom");
    var cursor = svg.querySelector(".cursor"), box = svg.parentNode.querySelector(".readout");
    function hide() { cursor.setAttribute("visibility", "hidden"); box.hidden = true; }
    svg.addEventListener("mouseleave", hide);
    svg.addEventListener("mousemove", function (ev) {
      var r = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
      var ux = (ev.clientX - r.left) * vb.width / r.width, uy = (ev.clientY - r.top) * vb.height / r.height;
      if (ux < x0 || ux > x1 || uy < top - 10 || uy > bottom) { hide(); return; }
      var t = (ux - x0) / (x1 - x0) * tmax, best = samples[0];
      for (var i = 1; i < samples.length; i++) if (Math.abs(samples[i].t - t) < Math.abs(best.t - t)) best = samples[i];
      var x = x0 + (x1 - x0) * best.t / tmax;
      cursor.setAttribute("x1", x); cursor.setAttribute("x2", x); cursor.setAttribute("visibility", "visible");
      box.textContent = "";
      function line(label, value) {
        var d = document.createElement("div"), b = document.createElement("b");
        d.appendChild(document.createTextNode(label + " ")); b.textContent = value; d.appendChild(b); box.appendChild(d);
      }
      line("t =", best.t.toFixed(1) + " s");
      line("process tree", size(best.rss));
      var w = best.workers || {};
      Object.keys(w).forEach(function (p) { line("pid " + p, size(w[p])); });
      files.forEach(function (f) { if (f.start <= best.t && best.t <= f.end) line("running", f.file + " (pid " + f.pid + ")"); });
      box.hidden = false;
      var px = (x / vb.width) * r.width;
      box.style.top = "8px";
      if (px > r.width / 2) { box.style.left = ""; box.style.right = (r.width - px + 10) + "px"; }
      else { box.style.right = ""; box.style.left = (px + 10) + "px"; }
    });
  });
  document.body.setAttribute("data-rendered", "1");
  document.body.setAttribute("data-timelines", String(charts.length));
})();
