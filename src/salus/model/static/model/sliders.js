// Show each coverage slider's value next to its label as it moves.
document.addEventListener("input", function (event) {
  var el = event.target;
  if (el.type !== "range") return;
  var out = document.querySelector('output[for="' + el.id + '"]');
  if (out) out.textContent = el.value;
});
