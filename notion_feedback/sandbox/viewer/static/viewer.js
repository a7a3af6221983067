// The viewer's only script (its pages run no inline script: see the Content-Security-Policy in viewer.py).
// A table cell's dropdown saves as soon as the person picks a value.
document.querySelectorAll("select[data-submit-on-change]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
