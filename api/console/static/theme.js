// Light or dark: the system's choice (prefers-color-scheme) until the reader picks one with
// the toggle, which is remembered in localStorage.

const KEY = "tts.theme";
const dark = () => matchMedia("(prefers-color-scheme: dark)").matches;

function apply(button) {
  const chosen = localStorage.getItem(KEY);
  if (chosen) document.documentElement.dataset.theme = chosen;
  else delete document.documentElement.dataset.theme;
  const isDark = chosen ? chosen === "dark" : dark();
  button.setAttribute("aria-pressed", String(isDark));
}

export function setUpTheme(button) {
  apply(button);
  button.addEventListener("click", () => {
    const isDark = button.getAttribute("aria-pressed") === "true";
    localStorage.setItem(KEY, isDark ? "light" : "dark");
    apply(button);
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => apply(button));
}
