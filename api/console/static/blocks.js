// The job's blocks as a form: one fieldset per block (text, provider, voice, pause, speed),
// added, removed, or made from a pasted script.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
let providers = []; // GET /tts/providers
const voices = new Map(); // provider name -> its voices, fetched once
let blockSerial = 0; // unique ids for each block's fields

export function setProviders(list) {
  providers = list;
}

export const providerList = () => providers;

export async function voicesOf(provider) {
  if (!voices.has(provider)) {
    const response = await api(`/tts/voices/${encodeURIComponent(provider)}`);
    voices.set(provider, response.ok ? await response.json() : []);
  }
  return voices.get(provider);
}

function options(select, items, selected) {
  select.replaceChildren(
    ...items.map(({ value, label }) => {
      const option = new Option(label, value);
      option.selected = value === selected;
      return option;
    }),
  );
}

// Fills the voice list of a block or a studio paragraph (anything with a provider and a voice
// field) with its provider's voices, choosing `wanted` if offered, else the provider's default.
export async function fillVoices(container, wanted) {
  const provider = field(container, "provider").value;
  const found = await voicesOf(provider);
  // The provider may have changed while its voices were fetched: the newer choice fills the list.
  if (field(container, "provider").value !== provider) return;
  const fallback = providers.find((p) => p.name === provider)?.default_voice;
  const select = field(container, "voice");
  select.replaceChildren(...found.map((v) => new Option(v.language ? `${v.name} (${v.language})` : v.name, v.id)));
  select.value = found.some((v) => v.id === wanted) ? wanted : fallback || found[0]?.id || "";
}

export const field = (fieldset, name) => fieldset.querySelector(`[data-field="${name}"]`);

// The API's name of each field of a block -> the form's (its data-field).
const FORM_FIELD = { text: "text", provider: "provider", voice: "voice", wait_after_ms: "pause", speed: "speed" };

// The field of block `index` (from 0, as the API counts) that the API calls `apiName`; null
// when the form has no such block or field.
export function blockField(index, apiName) {
  const fieldset = $("blocks").querySelectorAll("fieldset.block")[index];
  const name = FORM_FIELD[apiName];
  return (fieldset && name && field(fieldset, name)) || null;
}

// The form's word for a field the API names: its label, as a reader sees it ("pause after").
export function fieldWord(apiName) {
  const label = FORM_FIELD[apiName] && $("block-template").content.querySelector(`[data-for="${FORM_FIELD[apiName]}"]`);
  return label ? label.textContent.replace(/\(.*\)/, "").trim().toLowerCase() : apiName;
}

// The bounds of the numeric fields are the API's own, read from its OpenAPI document (which
// quotes what the server enforces), so the form cannot drift from the API and offer a value
// it refuses. Without the document the form has no bounds, and the API still names a bad value.
export async function applyLimits() {
  let properties;
  try {
    const response = await fetch("/openapi.json");
    properties = (await response.json()).components.schemas.BlockIn.properties;
  } catch {
    return;
  }
  const template = $("block-template").content;
  for (const [apiName, name] of Object.entries(FORM_FIELD)) {
    const { minimum, maximum } = properties[apiName] || {};
    const selector = `input[type="number"][data-field="${name}"]`;
    for (const input of [...template.querySelectorAll(selector), ...$("blocks").querySelectorAll(selector)]) {
      if (typeof minimum === "number") input.min = minimum;
      if (typeof maximum === "number") input.max = maximum;
    }
  }
}

export async function addBlock(values = {}) {
  const fieldset = $("block-template").content.firstElementChild.cloneNode(true);
  const serial = ++blockSerial;
  for (const label of fieldset.querySelectorAll("label[data-for]")) {
    const input = field(fieldset, label.dataset.for);
    input.id = `block-${serial}-${label.dataset.for}`;
    label.htmlFor = input.id;
    // "Block 2 text": each field's name says which block it belongs to, for screen readers.
    label.prepend(Object.assign(document.createElement("span"), { className: "which" }));
  }
  const first = $("blocks").querySelector("fieldset.block");
  const provider = values.provider || (first && field(first, "provider").value) || defaultProvider();
  options(field(fieldset, "provider"), providers.map((p) => ({ value: p.name, label: p.name })), provider);
  field(fieldset, "text").value = values.text || "";
  field(fieldset, "pause").value = values.pause ?? 0;
  field(fieldset, "speed").value = values.speed ?? 1;
  field(fieldset, "provider").addEventListener("change", () => fillVoices(fieldset));
  fieldset.querySelector(".remove-block").addEventListener("click", () => removeBlock(fieldset));
  $("blocks").append(fieldset);
  renumber();
  await fillVoices(fieldset, values.voice || (first && field(first, "voice").value));
  return fieldset;
}

export function defaultProvider() {
  const configured = document.body.dataset.defaultProvider; // DEFAULT_PROVIDER, filled in by the server
  return (providers.find((p) => p.name === configured) || providers[0] || {}).name;
}

function removeBlock(fieldset) {
  const next = fieldset.nextElementSibling || fieldset.previousElementSibling;
  fieldset.remove();
  renumber();
  field(next, "text").focus();
}

function renumber() {
  const all = [...$("blocks").querySelectorAll("fieldset.block")];
  all.forEach((fieldset, i) => {
    fieldset.querySelector("legend").textContent = `Block ${i + 1}`;
    for (const span of fieldset.querySelectorAll(".which")) span.textContent = `Block ${i + 1} `;
    const remove = fieldset.querySelector(".remove-block");
    remove.textContent = `Remove block ${i + 1}`;
    remove.disabled = all.length === 1; // a job needs a block
  });
}

// Each paragraph of the script (separated by a blank line) as a block, in place of the blocks
// there were, with the first block's provider and voice; false for an empty script.
export async function blocksFromScript(script) {
  const paragraphs = script.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  if (!paragraphs.length) return false;
  const first = $("blocks").querySelector("fieldset.block");
  const keep = first ? { provider: field(first, "provider").value, voice: field(first, "voice").value } : {};
  $("blocks").replaceChildren();
  for (const text of paragraphs) await addBlock({ ...keep, text });
  $("blocks").querySelector("textarea").focus();
  return true;
}

// The blocks as POST /tts takes them.
export function readBlocks() {
  return [...$("blocks").querySelectorAll("fieldset.block")].map((fieldset) => ({
    text: field(fieldset, "text").value,
    provider: field(fieldset, "provider").value,
    voice: field(fieldset, "voice").value,
    wait_after_ms: Math.round(Number(field(fieldset, "pause").value) || 0),
    speed: Number(field(fieldset, "speed").value) || 1,
  }));
}
