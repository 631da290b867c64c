// Progressive enhancements for the staff app. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function clamp(input, value) {
    var min = input.min === "" ? 0 : Number(input.min);
    var max = input.max === "" ? Infinity : Number(input.max);
    return Math.min(max, Math.max(min, value));
  }

  function enhance(root) {
    // +/- steppers: the buttons are rendered hidden and shown only when this script runs.
    root.querySelectorAll(".stepper").forEach(function (stepper) {
      if (stepper.dataset.ready) return;
      stepper.dataset.ready = "1";
      var input = stepper.querySelector("input");
      stepper.querySelectorAll("button[data-step]").forEach(function (button) {
        button.hidden = false;
        button.addEventListener("click", function () {
          var current = parseInt(input.value, 10);
          if (isNaN(current)) current = 0;
          input.value = clamp(input, current + Number(button.dataset.step));
          input.dispatchEvent(new Event("change", { bubbles: true }));
        });
      });
    });
    // A form whose answer may take a while (a large program's suppressed figures, worked out
    // the first time) says so once sent, and is not sent twice.
    root.querySelectorAll("form").forEach(function (form) {
      var working = form.querySelector("[data-working]");
      if (!working || form.dataset.ready) return;
      form.dataset.ready = "1";
      form.addEventListener("submit", function () {
        working.hidden = false;
        form.setAttribute("aria-busy", "true");
        form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
      });
    });
    // The language menu submits itself when a language is picked.
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.ready) return;
      select.dataset.ready = "1";
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();
