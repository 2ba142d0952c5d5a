// Projects: the list (title and first words), a new project from a pasted or uploaded
// script, and the editor: a voice per paragraph, save with the version it was loaded at (a
// save from a stale tab is refused and said so), render (only changed paragraphs are made
// again: the answer says which), and the read-along of the rendered audio.

import { api, errorText, sseEvents } from "./api.js";
import { defaultProvider, field, fillVoices, providerList } from "./blocks.js";
import { showReadAlong } from "./readalong.js";

const $ = (id) => document.getElementById(id);
let project = null; // as loaded or saved: its id and version
let following = null; // the AbortController of the render followed
let serial = 0;
let showError = () => {};

export const openProject = () => project;
const say = (message) => ($("project-status").textContent = message);
const items = () => [...$("paragraphs").querySelectorAll("li.paragraph")];

// ---- the list

export async function loadProjects() {
  const response = await api("/projects");
  if (!response.ok) return showError(`Cannot list projects: ${await errorText(response)}`);
  const { projects } = await response.json();
  const rows = projects.map((p) => {
    const item = document.createElement("li");
    const open = Object.assign(document.createElement("button"), { type: "button", className: "project-open" });
    const title = Object.assign(document.createElement("strong"), { textContent: p.title || "Untitled" });
    const words = Object.assign(document.createElement("span"), { className: "muted", textContent: p.first_words });
    open.append(title, " ", words);
    open.setAttribute("aria-label", `Open ${p.title || "Untitled"}: ${p.first_words}`);
    open.addEventListener("click", () => openById(p.id));
    item.append(open);
    return item;
  });
  if (!rows.length) rows.push(Object.assign(document.createElement("li"), { textContent: "No projects yet." }));
  $("project-list").replaceChildren(...rows);
}

async function createProject(event) {
  event.preventDefault();
  showError("");
  const file = $("new-file").files[0];
  let response;
  if (file) {
    const form = new FormData();
    form.append("file", file);
    if ($("new-title").value) form.append("title", $("new-title").value);
    response = await api("/projects/import", { method: "POST", body: form });
  } else {
    const body = { title: $("new-title").value || null, script: $("new-script").value };
    if ($("new-format").value) body.script_format = $("new-format").value;
    response = await api("/projects", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }
  if (!response.ok) return showError(`The project was refused: ${await errorText(response)}`);
  $("new-project-form").reset();
  await show(await response.json());
  loadProjects();
  $("project-title").focus();
}

// ---- the editor

async function openById(id) {
  const response = await api(`/projects/${id}`);
  if (!response.ok) return showError(`Cannot open the project: ${await errorText(response)}`);
  await show(await response.json());
  $("project-title").focus();
}

async function show(loaded) {
  project = loaded;
  $("editor").hidden = false;
  $("editor-title").textContent = loaded.title || "Untitled project";
  $("project-title").value = loaded.title || "";
  $("project-author").value = loaded.author || "";
  if (loaded.output_format) $("project-format").value = loaded.output_format;
  $("project-loudness").value = typeof loaded.loudness === "string" ? loaded.loudness : "";
  $("paragraphs").replaceChildren();
  for (const block of loaded.blocks) await addParagraph(block);
  say(`Version ${loaded.version}, ${loaded.blocks.length} paragraphs.`);
  $("listen").hidden = true;
  if (loaded.last_render) showRender(loaded.last_render.job_id);
}

async function addParagraph(block = {}) {
  const item = $("paragraph-template").content.firstElementChild.cloneNode(true);
  const n = ++serial;
  for (const label of item.querySelectorAll("label[data-for]")) {
    const input = field(item, label.dataset.for);
    input.id = `para-${n}-${label.dataset.for}`;
    label.htmlFor = input.id;
    label.prepend(Object.assign(document.createElement("span"), { className: "which" }));
  }
  item.dataset.id = block.id || "";
  const provider = field(item, "provider");
  provider.replaceChildren(...providerList().map((p) => new Option(p.name, p.name)));
  provider.value = block.provider || defaultProvider();
  field(item, "chapter").value = block.chapter || "";
  field(item, "text").value = block.text || "";
  field(item, "pause").value = block.wait_after_ms ?? 0;
  field(item, "speed").value = block.speed ?? 1;
  provider.addEventListener("change", () => fillVoices(item));
  item.querySelector(".regenerate").addEventListener("click", () => regenerate(item));
  item.querySelector(".remove-paragraph").addEventListener("click", () => {
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    renumber();
    next && field(next, "text").focus();
  });
  $("paragraphs").append(item);
  renumber();
  await fillVoices(item, block.voice);
  return item;
}

function renumber() {
  items().forEach((item, i) => {
    const name = `Paragraph ${i + 1}`;
    item.querySelector(".para-number").textContent = name;
    for (const span of item.querySelectorAll(".which")) span.textContent = `${name} `;
    item.querySelector(".regenerate").textContent = `Regenerate paragraph ${i + 1}`;
    item.querySelector(".remove-paragraph").textContent = `Remove paragraph ${i + 1}`;
  });
}

function content() {
  return {
    title: $("project-title").value || null,
    author: $("project-author").value || null,
    output_format: $("project-format").value,
    loudness: $("project-loudness").value || null,
    blocks: items().map((item) => {
      const block = {
        text: field(item, "text").value,
        provider: field(item, "provider").value,
        voice: field(item, "voice").value || null,
        wait_after_ms: Math.max(0, Math.round(Number(field(item, "pause").value) || 0)),
        speed: Number(field(item, "speed").value) || 1,
        chapter: field(item, "chapter").value || null,
      };
      if (item.dataset.id) block.id = item.dataset.id;
      return block;
    }),
  };
}

// PUT with If-Match: the version this tab loaded. A stale tab is told, and keeps its text.
export async function save() {
  showError("");
  const response = await api(`/projects/${project.id}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json", "If-Match": `"${project.version}"` },
    body: JSON.stringify(content()),
  });
  if (response.status === 409 || response.status === 412) {
    const body = await response.json();
    showError(
      `Not saved: this project was saved elsewhere meanwhile (now version ${body.current_version}, ` +
        `this page has version ${project.version}). Copy your changes, then reload the project.`,
    );
    return false;
  }
  if (!response.ok) {
    showError(`Not saved: ${await errorText(response)}`);
    return false;
  }
  project = await response.json();
  project.blocks.forEach((block, i) => (items()[i].dataset.id = block.id));
  $("editor-title").textContent = project.title || "Untitled project";
  say(`Saved: version ${project.version}.`);
  loadProjects();
  return true;
}

async function render(which = null) {
  if (!(await save())) return;
  const response = await api(`/projects/${project.id}/render`, { method: "POST" });
  if (!response.ok) return showError(`Cannot render: ${await errorText(response)}`);
  const answer = await response.json();
  answer.blocks.forEach((block) => {
    const mark = items()[block.index]?.querySelector(".para-made");
    if (mark) mark.textContent = block.made === "new" ? "being made" : "from the cache";
  });
  const remade = answer.new_blocks.map((i) => i + 1).join(", ") || "none";
  say(
    `${which ? `Paragraph ${which}: ` : ""}rendering version ${answer.version}: made again: ` +
      `${remade}; ${answer.cached_blocks.length} from the cache.`,
  );
  $("project-status").dataset.newBlocks = answer.new_blocks.join(",");
  showRender(answer.job_id);
}

function regenerate(item) {
  return render(items().indexOf(item) + 1);
}

// Follows the render's job to its end, then lays out the read-along.
async function showRender(jobId) {
  following?.abort();
  const controller = (following = new AbortController());
  let last = null;
  try {
    const response = await api(`/jobs/${jobId}/events`, { signal: controller.signal });
    if (!response.ok) return; // expired with its job: nothing to play
    for await (const event of sseEvents(response.body)) {
      if (event.name === "status") last = JSON.parse(event.data);
    }
  } catch {
    return;
  }
  if (controller.signal.aborted || last?.status !== "completed") {
    if (last?.status === "failed") showError(`The render failed: ${last.error || "no reason given"}`);
    return;
  }
  const [result, timings] = await Promise.all([
    api(`/result/${jobId}`).then((r) => r.json()),
    api(`/result/${jobId}/timings`).then((r) => (r.ok ? r.json() : { sentences: [], words: [] })),
  ]);
  for (const mark of document.querySelectorAll(".para-made")) mark.textContent = "";
  const player = $("studio-player");
  player.src = result.signed_url;
  player.dataset.jobId = jobId;
  $("listen").hidden = false;
  showReadAlong(player, result, timings);
  say(`${$("project-status").textContent.replace(/ Ready.*$/, "")} Ready: ${(result.duration_ms / 1000).toFixed(1)} s.`);
}

async function deleteProject() {
  if (!project || !confirm(`Delete ${project.title || "this project"}?`)) return;
  const response = await api(`/projects/${project.id}`, { method: "DELETE" });
  if (!response.ok) return showError(`Cannot delete: ${await errorText(response)}`);
  project = null;
  $("editor").hidden = true;
  await loadProjects();
  $("new-title").focus();
}

export function setUpStudio(showErrorFn) {
  showError = showErrorFn;
  $("new-project-form").addEventListener("submit", createProject);
  $("add-paragraph").addEventListener("click", async () => field(await addParagraph(), "text").focus());
  $("save-project").addEventListener("click", save);
  $("render-project").addEventListener("click", () => render());
  $("delete-project").addEventListener("click", deleteProject);
}
