// The console: sign in, compose blocks, submit, follow a job's progress, play and download.
// Everything goes through the API with fetch and the bearer token, which is kept in
// sessionStorage (gone when the tab closes). Progress comes from GET /jobs/{id}/events, read
// with fetch rather than EventSource, since EventSource cannot send an Authorization header.

import { TOKEN, UNAUTHORIZED, USER, api, errorText, sseEvents, token } from "./api.js";
import { addBlock, applyLimits, blocksFromScript, field, readBlocks, setProviders } from "./blocks.js";
import { clearProblems, showRefusal } from "./problems.js";
import { setUpReadAlong } from "./readalong.js";
import { loadProjects, openProject, setUpStudio } from "./studio.js";
import { setUpTheme } from "./theme.js";
import { setUpVoices, showVoices } from "./voices.js";

const SESSION_JOBS = "tts.jobs"; // jobs submitted in this tab, for when GET /jobs is absent
const FINISHED = new Set(["completed", "failed", "cancelled"]);
const CANCELLABLE = new Set(["queued", "processing"]);

const $ = (id) => document.getElementById(id);
let watching = null; // the AbortController of the job being followed
let watchedJob = null; // its id

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const limits = applyLimits(); // the form's bounds, from the API's schema, before any block is made

function showError(message) {
  $("error").textContent = message || "";
}

function announce(message) {
  $("progress").textContent = message;
}

// ---- signing in and out

async function signIn(event) {
  event.preventDefault();
  showError("");
  const username = $("username").value;
  const body = new URLSearchParams({ username, password: $("password").value });
  const response = await fetch("/token", { method: "POST", body });
  if (!response.ok) {
    showError(`Sign-in failed: ${await errorText(response)}`);
    $("password").value = ""; // to be typed again
    $("password").focus();
    return;
  }
  sessionStorage.setItem(TOKEN, (await response.json()).access_token);
  sessionStorage.setItem(USER, username);
  $("password").value = "";
  await enter();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(USER);
  watching?.abort();
  for (const id of ["compose", "job", "recent", "who", "nav", "projects", "editor", "voices"]) $(id).hidden = true;
  $("sign-in").hidden = false;
  $("player").removeAttribute("src");
  showError(message || "");
  $("username").focus();
}

async function enter() {
  const [response] = await Promise.all([api("/tts/providers"), limits]);
  if (!response.ok) {
    if (response.status !== 401) showError(`Cannot list providers: ${await errorText(response)}`);
    return;
  }
  setProviders(await response.json());
  $("sign-in").hidden = true;
  $("who").hidden = $("nav").hidden = false;
  showView("quick");
  $("who-name").textContent = `Signed in as ${sessionStorage.getItem(USER) || "you"}`;
  if (!$("blocks").children.length) await addBlock();
  $("blocks").querySelector("textarea").focus();
  loadRecent();
}

// ---- the sections: a quick job, projects, voices

// Each section shows in its view; the job's once one is followed, the editor's once a
// project is open.
function showView(view) {
  for (const tab of document.querySelectorAll("#nav .tab")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
  }
  for (const section of document.querySelectorAll("main section[data-view]")) {
    const wanted = { job: watchedJob !== null, editor: openProject() !== null }[section.id] ?? true;
    section.hidden = section.dataset.view !== view || !wanted;
  }
  if (view === "projects") loadProjects();
  if (view === "voices") showVoices(showError);
}

// ---- submitting and following a job

async function submitJob(event) {
  event.preventDefault();
  showError("");
  clearProblems();
  const blocks = readBlocks();
  const body = JSON.stringify({ blocks, output_format: $("output-format").value });
  $("submit-job").disabled = true;
  try {
    const response = await api("/tts", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    });
    if (!response.ok) {
      await showRefusal(response, "The job was refused:");
      return;
    }
    const job = await response.json();
    remember({ job_id: job.job_id, status: job.status, created_at: new Date().toISOString() });
    watchJob(job.job_id, job.stream_url);
  } finally {
    $("submit-job").disabled = false;
  }
}

function watchJob(jobId, streamUrl) {
  watching?.abort();
  const controller = (watching = new AbortController());
  watchedJob = jobId;
  $("cancel-job").hidden = false;
  $("job").hidden = false;
  $("job-title").textContent = `Job ${jobId}`;
  $("block-progress").replaceChildren();
  $("download").hidden = true;
  const player = $("player");
  // The job's audio as it is made: a signed link, so the <audio> element needs no token.
  if (streamUrl) player.src = streamUrl;
  else player.removeAttribute("src");
  player.dataset.source = streamUrl ? "stream" : "";
  announce(`Job ${jobId} submitted.`);
  followEvents(jobId, controller.signal);
}

async function followEvents(jobId, signal) {
  let last = null;
  for (let attempt = 1; attempt <= 5 && !signal.aborted; attempt++) {
    try {
      const response = await api(`/jobs/${jobId}/events`, { signal });
      if (!response.ok) {
        showError(`Cannot follow job ${jobId}: ${await errorText(response)}`);
        if (response.status !== 429) return; // 429: one of this user's streams may end soon
      } else {
        for await (const event of sseEvents(response.body)) {
          if (event.name !== "status") continue;
          last = JSON.parse(event.data);
          showStatus(last);
          attempt = 0; // the stream works: a later break gets its own retries
        }
        if (last && FINISHED.has(last.status)) return finished(last, signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      showError(`Lost touch with job ${jobId} (${error.message}); reconnecting.`);
    }
    await sleep(1000 * attempt);
  }
}


function showStatus(status) {
  showError("");
  const items = status.blocks.map((block) => {
    const item = document.createElement("li");
    item.dataset.status = block.status;
    const detail = block.error ? `: ${block.error}` : block.cached ? " (from the cache)" : "";
    item.textContent = `Block ${block.index + 1}: ${block.status}${detail}`;
    return item;
  });
  $("block-progress").replaceChildren(...items);
  const done = status.blocks.filter((b) => b.status === "completed").length;
  let line = `Job ${status.status}: ${done} of ${status.blocks.length} blocks done.`;
  if (status.status === "failed") line = `Job failed: ${status.error || "no reason given"}.`;
  announce(line);
  if (status.job_id === watchedJob) $("cancel-job").hidden = !CANCELLABLE.has(status.status);
  remember({ job_id: status.job_id, status: status.status, created_at: status.created_at });
}

async function finished(status, signal) {
  loadRecent();
  if (status.status !== "completed") return;
  const response = await api(`/result/${status.job_id}`, { signal });
  if (!response.ok) {
    showError(`Cannot fetch the result: ${await errorText(response)}`);
    return;
  }
  const result = await response.json();
  const seconds = (result.duration_ms / 1000).toFixed(1);
  if (!result.signed_url) {
    announce(`Job completed: ${seconds} s of audio, in blocks alone (no combined file).`);
    return;
  }
  const download = $("download");
  download.href = result.signed_url;
  download.hidden = false;
  // The final file has a known length, so the player can show the duration and seek; carry
  // on from where the stream was.
  const player = $("player");
  const at = player.currentTime;
  const playing = !player.paused && !player.ended;
  player.addEventListener(
    "loadedmetadata",
    () => {
      if (at > 0 && at < player.duration) player.currentTime = at;
      if (playing) player.play().catch(() => {});
    },
    { once: true },
  );
  player.src = result.signed_url;
  player.dataset.source = "final";
  announce(`Job completed: ${seconds} s of audio, ready to play or download.`);
}

// DELETE /jobs/{id}: nothing more of the job is made; its event feed then ends, cancelled.
async function cancelJob() {
  const jobId = watchedJob;
  const button = $("cancel-job");
  button.disabled = true;
  try {
    const response = await api(`/jobs/${jobId}`, { method: "DELETE" });
    if (!response.ok) {
      showError(`Cannot cancel job ${jobId}: ${await errorText(response)}`);
      return;
    }
    button.hidden = true;
    // the event feed shows the cancelled job with its counts, perhaps before this answer
    if (!$("progress").textContent.startsWith("Job cancelled")) announce("Job cancelled.");
  } finally {
    button.disabled = false;
  }
}

// ---- recent jobs

function sessionJobs() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_JOBS)) || [];
  } catch {
    return [];
  }
}

function remember(job) {
  const all = sessionJobs();
  const jobs = all.filter((j) => j.job_id !== job.job_id);
  jobs.unshift({ ...all.find((j) => j.job_id === job.job_id), ...job });
  sessionStorage.setItem(SESSION_JOBS, JSON.stringify(jobs.slice(0, 50)));
}

async function loadRecent() {
  let jobs = null;
  try {
    const response = await api("/jobs");
    if (response.ok) {
      const body = await response.json();
      jobs = Array.isArray(body) ? body : body.jobs;
    }
  } catch {
    // an API without GET /jobs: the jobs of this tab below
  }
  if (!Array.isArray(jobs)) jobs = sessionJobs();
  const items = jobs.slice(0, 10).map((job) => {
    const id = job.job_id || job.id;
    const item = document.createElement("li");
    const when = job.created_at ? new Date(job.created_at).toLocaleString() : "";
    // what was said: the job's title, else its first words (GET /jobs), else its id
    const said = job.title || job.preview || `${id.slice(0, 8)}…`;
    const name = Object.assign(document.createElement("span"), { className: "job-said" });
    name.textContent = said;
    item.append(name, ` (${id.slice(0, 8)}) ${job.status || ""} ${when}`);
    const show = Object.assign(document.createElement("button"), { type: "button" });
    show.textContent = `Show job: ${said.slice(0, 40)}`;
    show.addEventListener("click", () => watchJob(id, null));
    item.append(show);
    return item;
  });
  if (!items.length) items.push(Object.assign(document.createElement("li"), { textContent: "No jobs yet." }));
  $("recent-jobs").replaceChildren(...items);
}

// ---- wiring

setUpTheme($("theme-toggle"));
setUpStudio(showError);
setUpVoices(showError);
setUpReadAlong($("studio-player"));
for (const tab of document.querySelectorAll("#nav .tab")) {
  tab.addEventListener("click", () => showView(tab.dataset.view));
}
$("sign-in-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", () => signOut());
$("add-block").addEventListener("click", async () => {
  const fieldset = await addBlock();
  field(fieldset, "text").focus();
});
$("use-script").addEventListener("click", async () => {
  const made = await blocksFromScript($("script").value);
  showError(made ? "" : "The script is empty: write paragraphs separated by a blank line.");
});
window.addEventListener(UNAUTHORIZED, () => signOut("Your sign-in has expired; sign in again."));
$("job-form").addEventListener("submit", submitJob);
$("refresh-recent").addEventListener("click", loadRecent);
$("cancel-job").addEventListener("click", cancelJob);
if (token()) enter();
else $("username").focus();
