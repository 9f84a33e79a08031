// Focusing a feed address selects it, ready to copy. A file, not an
// inline onfocus: the page's Content-Security-Policy forbids inline script.
document.querySelectorAll("input.url").forEach((input) => {
  input.addEventListener("focus", () => input.select());
});
