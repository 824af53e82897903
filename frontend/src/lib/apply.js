// Applying a previewed plan (first sync, preview, undo): a background job on the server,
// followed here until it ends, so a whole account's first sync never hits a request timeout.
import { api, ApiError, paths } from "./api.js";

/** The French message of an applied preview, from its result (as the synchronous answer says it). */
export function appliedMessage(result) {
  const changed = ((result && result.changed_since_preview) || []).length;
  return changed
    ? `Aperçu appliqué, sauf ${changed} élément(s) modifié(s) depuis l'aperçu (la prochaine synchronisation les reprendra)`
    : "Aperçu appliqué";
}

const JOB_STATES = new Set(["queued", "running", "finished", "failed"]);
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Apply plan `planId` as a job and wait for its end: `{data, message}` like the synchronous
 * answer (data: the run's result), or an ApiError carrying the run's French error.
 * `onProgress(job)` hears every look at the running job (status, progress).
 */
export async function applyInBackground(planId, { force = false, onProgress = null, interval = 700 } = {}) {
  const res = await api.post(paths.applyPlan(planId), force ? { async: true, force: true } : { async: true });
  const job = res.data || {};
  if (!JOB_STATES.has(job.status)) return { data: job, message: res.message || appliedMessage(job) }; // applied at once
  return followJob(job, { onProgress, interval });
}

/** Follow a background job (as `GET runs/<id>` tells it) to its end: see `applyInBackground`. */
export async function followJob(first, { onProgress = null, interval = 700 } = {}) {
  let job = first || {};
  while (job.status === "queued" || job.status === "running") {
    if (onProgress) onProgress(job);
    await wait(interval);
    job = (await api.get(paths.run(job.run_id))).data || {};
  }
  if (job.status === "failed") {
    const e = job.error || {};
    throw new ApiError(e.status || 500, e.message || "L'application de l'aperçu a échoué.", {
      errors: e.errors || null,
      data: e.data ?? null,
      retryAfter: e.retry_after ?? null,
      code: e.reason ?? null,
    });
  }
  const result = job.result || {};
  return { data: result, message: appliedMessage(result) };
}
