// The program report's "Print" button. A static file because the Content-Security-Policy
// allows no inline script; without JavaScript the button stays hidden and the browser's own
// Print command does the same.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
