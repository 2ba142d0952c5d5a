// The voice browser: every provider's voices, filtered by provider, language and gender, each
// with a preview (GET /tts/voices/{provider}/{voice}/preview: made once by the service, then
// kept). The preview is fetched with the token and played from a blob: URL.

import { api, errorText } from "./api.js";
import { providerList, voicesOf } from "./blocks.js";

const $ = (id) => document.getElementById(id);
let playing = null; // the blob: URL being played
// Each change of a filter starts a new listing; a provider's voices arrive when they arrive, so
// only the newest listing may draw (an older one finishing later would show the wrong provider).
let listing = 0;

function fill(select, values, labelOf, keep) {
  const current = keep ? select.value : "";
  select.replaceChildren(...values.map((v) => new Option(labelOf(v), v)));
  if (values.includes(current)) select.value = current;
}

export async function showVoices(showError) {
  const names = providerList().map((p) => p.name);
  if (!$("voice-provider").options.length) fill($("voice-provider"), names, (n) => n, false);
  const provider = $("voice-provider").value;
  const mine = ++listing;
  const voices = await voicesOf(provider);
  if (mine !== listing) return;
  const languages = [...new Set(voices.map((v) => v.language).filter(Boolean))].sort();
  fill($("voice-language"), ["", ...languages], (l) => l || "Any", true);
  const language = $("voice-language").value;
  const gender = $("voice-gender").value;
  const shown = voices.filter(
    (v) => (!language || v.language === language) && (!gender || v.gender === gender),
  );
  $("voice-count").textContent = `${shown.length} of ${voices.length} voices of ${provider}`;
  $("voice-list").replaceChildren(
    ...shown.slice(0, 200).map((voice) => {
      const item = document.createElement("li");
      const name = Object.assign(document.createElement("span"), { className: "voice-name" });
      name.textContent = voice.name;
      const facts = Object.assign(document.createElement("span"), { className: "muted" });
      facts.textContent = [voice.language, voice.gender, voice.quality].filter(Boolean).join(" · ");
      const button = Object.assign(document.createElement("button"), { type: "button" });
      button.textContent = `Preview ${voice.name}`;
      button.dataset.voice = voice.id;
      button.addEventListener("click", () => preview(provider, voice, button, showError));
      item.append(name, " ", facts, " ", button);
      return item;
    }),
  );
}

async function preview(provider, voice, button, showError) {
  button.disabled = true;
  $("voice-count").textContent = `Making a preview of ${voice.name}…`;
  try {
    const path = `/tts/voices/${encodeURIComponent(provider)}/${encodeURIComponent(voice.id)}/preview`;
    const response = await api(path);
    if (!response.ok) {
      showError(`No preview of ${voice.name}: ${await errorText(response)}`);
      return;
    }
    if (playing) URL.revokeObjectURL(playing);
    playing = URL.createObjectURL(await response.blob());
    const player = $("preview-player");
    player.src = playing;
    player.dataset.voice = voice.id;
    $("voice-count").textContent = `Playing ${voice.name}.`;
    await player.play().catch(() => {});
  } finally {
    button.disabled = false;
  }
}

export function setUpVoices(showError) {
  for (const id of ["voice-provider", "voice-language", "voice-gender"]) {
    $(id).addEventListener("change", () => showVoices(showError));
  }
}
