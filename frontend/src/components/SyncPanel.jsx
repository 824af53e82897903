// "Synchroniser avec Google Contacts": start an async run, follow its progress, show the result.
// "Aperçu": a dry run showing, per contact and per field, what a sync would change.
import { useEffect, useRef, useState } from "react";
import { api, ApiError, paths } from "../lib/api.js";
import { applyInBackground } from "../lib/apply.js";
import { classifyError } from "../lib/errors.js";
import { fieldLabel, fieldValue, formatDate } from "../lib/format.js";
import {
  actionLabel,
  changedAtarys,
  changesOf,
  COUNT_LABELS,
  countsOf,
  directionLabel,
  finalRunOf,
  DIRECTIONS,
  isFailed,
  isRunning,
  itemName,
  itemsOf,
  planCounts,
  progressOf,
  runIdOf,
  runOf,
  runSummary,
  triggerLabel,
} from "../lib/sync.js";
import { AppliedNotice, PlanErrorNotice, PlanExpiry } from "./Plan.jsx";
import { Button, Card, ConfirmDialog, ErrorNotice, Notice, ProgressBar } from "./ui.jsx";

const PREVIEW_PAGE = 25;

/** Counts per direction, as two small tables side by side. */
export function RunCounts({ counts }) {
  if (!counts) return null;
  return (
    <div className="grid grid-cols-1 gap-3 sm:grid-cols-2" data-testid="run-counts">
      {DIRECTIONS.map((dir) => (
        <div key={dir.key} className="rounded-md border border-slate-200 p-3">
          <h3 className="text-sm font-semibold">{dir.label}</h3>
          <dl className="mt-2 grid grid-cols-3 gap-2 text-center">
            {COUNT_LABELS.filter(([key]) => key !== "conflicts" && key !== "duplicates").map(([key, label]) => (
              <div key={key} className="rounded bg-slate-50 px-1 py-2">
                <dt className="text-xs text-slate-600">{label}</dt>
                <dd className={`text-lg font-semibold ${key === "errors" && counts[dir.key][key] ? "text-red-700" : ""}`} data-count={`${dir.key}.${key}`}>
                  {counts[dir.key][key]}
                </dd>
              </div>
            ))}
          </dl>
        </div>
      ))}
    </div>
  );
}

/** The planned (or done) changes: one block per contact, one row per field. */
export function ChangeList({ items, emptyText = "Aucun changement." }) {
  const [shown, setShown] = useState(PREVIEW_PAGE);
  const meaningful = items.filter((i) => !["noop", "unchanged", "skip"].includes(String(i.action || "").toLowerCase()));
  if (!meaningful.length) return <p className="text-sm text-slate-600">{emptyText}</p>;
  return (
    <div>
      <ul className="space-y-2">
        {meaningful.slice(0, shown).map((item, index) => {
          const changes = changesOf(item);
          return (
            <li key={item.id ?? `${item.client_id}-${item.google_id}-${index}`} className="rounded-md border border-slate-200" data-testid="change-item">
              <details open={meaningful.length <= 5}>
                <summary className="flex cursor-pointer flex-wrap items-center gap-2 px-3 py-2 text-sm">
                  <span className="font-medium">{itemName(item)}</span>
                  <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{actionLabel(item.action)}</span>
                  <span className="text-xs text-slate-600">{directionLabel(item.direction, item.action)}</span>
                  {item.error && <span className="text-xs text-red-700">{item.error}</span>}
                </summary>
                {changes.length > 0 && (
                  <div className="relative overflow-x-auto border-t border-slate-100 px-3 py-2">
                    <table className="w-full text-sm">
                      <thead>
                        <tr className="text-left text-xs text-slate-600">
                          <th scope="col" className="py-1 pr-2">Champ</th>
                          <th scope="col" className="py-1 pr-2">Avant</th>
                          <th scope="col" className="py-1">Après</th>
                        </tr>
                      </thead>
                      <tbody>
                        {changes.map((c) => (
                          <tr key={c.field} className="align-top">
                            <th scope="row" className="py-1 pr-2 text-left font-normal text-slate-700">{fieldLabel(c.field)}</th>
                            <td className="py-1 pr-2 text-red-800 line-through decoration-red-300 [overflow-wrap:anywhere]">{fieldValue(c.field, c.before)}</td>
                            <td className="py-1 text-green-800 [overflow-wrap:anywhere]">{fieldValue(c.field, c.after)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </details>
            </li>
          );
        })}
      </ul>
      {meaningful.length > shown && (
        <Button variant="secondary" className="mt-2" onClick={() => setShown((n) => n + PREVIEW_PAGE)}>
          Afficher {Math.min(PREVIEW_PAGE, meaningful.length - shown)} de plus ({meaningful.length - shown} restants)
        </Button>
      )}
    </div>
  );
}

/** The ApiError a failed run stands for (a job's `error: {status, message}` or a run's `error_message`). */
export function runError(run) {
  const err = run.error && typeof run.error === "object" ? run.error : null;
  const message =
    (err && err.message) || (typeof run.error === "string" && run.error) || run.error_message || "La synchronisation a échoué.";
  const code = (err && (err.reason || err.code)) || run.error_code || run.reason || (run.status === "refused" ? "mass_deletion" : null);
  const status = (err && err.status) || run.http_status || 500;
  // The wait, from the job's error when it says it, else from its French message ("dans 60 s").
  const said = /dans (\d+) ?s\b/.exec(message);
  const retryAfter = err && err.retry_after !== undefined ? Number(err.retry_after) : said ? Number(said[1]) : null;
  return new ApiError(status, message, { code, data: run, retryAfter });
}

const SEEN_KEY = "atarys.lastSeenRun";

function lastSeen() {
  try {
    return Number(window.localStorage.getItem(SEEN_KEY)) || 0;
  } catch {
    return 0;
  }
}

function markSeen(id) {
  try {
    if (id && id > lastSeen()) window.localStorage.setItem(SEEN_KEY, String(id));
  } catch {
    // Private browsing: the summary may show again, nothing worse.
  }
}

/** The run told by name, one line per direction. */
export function RunSummary({ items }) {
  const lines = runSummary(items);
  if (!lines.length) return <p>Rien n'a changé : les deux côtés étaient déjà à jour.</p>;
  return (
    <ul className="space-y-1" data-testid="run-summary">
      {lines.map((l) => (
        <li key={l.direction}>{l.text}</li>
      ))}
    </ul>
  );
}

export default function SyncPanel({ connected = true, onRunFinished, onRunStarted, pollInterval = 800, watchInterval = 4000 }) {
  const [phase, setPhase] = useState("idle"); // idle | starting | running | done | error
  const [run, setRun] = useState(null);
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [askForce, setAskForce] = useState(false);
  const [preview, setPreview] = useState(null); // null | {loading} | {plan} | {error}
  const [background, setBackground] = useState(null); // a finished run started elsewhere that changed ATARYS
  const [applied, setApplied] = useState(null); // {previewed, result}: what "Appliquer ce plan" did
  const [askForceApply, setAskForceApply] = useState(false);
  const alive = useRef(true);
  const timer = useRef(null);
  const following = useRef(null);
  const mine = useRef(false);
  const starting = useRef(false); // a click is being answered: a second one starts nothing

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
      clearTimeout(timer.current);
    };
  }, []);

  const detailOf = async (id) => {
    try {
      const res = await api.get(paths.run(id));
      const data = res.data || {};
      return itemsOf(data.run || data);
    } catch {
      return [];
    }
  };

  const finish = async (answer) => {
    const finalRun = finalRunOf(answer);
    following.current = null;
    setRun(finalRun);
    setPreview(null); // the state a preview described is over
    setBackground(null); // an older run's summary: this newer result supersedes it
    if (isFailed(finalRun) && classifyError(runError(finalRun)) === "busy") {
      // This run lost the race to another one (two clicks, two tabs): follow that one.
      mine.current = false;
      setRun(null);
      setPhase("idle");
      await watch();
      return;
    }
    if (isFailed(finalRun)) {
      setError(runError(finalRun));
      setPhase("error");
    } else {
      setError(null);
      setPhase("done");
      const id = runIdOf(finalRun);
      setItems(id !== null && id !== undefined ? await detailOf(id) : []);
      markSeen(id);
    }
    if (onRunFinished) onRunFinished(finalRun);
  };

  const follow = (id) => {
    following.current = id;
    clearTimeout(timer.current);
    timer.current = setTimeout(async () => {
      if (!alive.current || following.current !== id) return;
      try {
        const res = await api.get(paths.run(id));
        if (!alive.current) return;
        const current = runOf(res.data);
        if (isRunning(current)) {
          setRun(current);
          follow(id);
        } else {
          await finish(current);
        }
      } catch (err) {
        if (!alive.current) return;
        following.current = null;
        setError(err);
        setPhase("error");
      }
    }, pollInterval);
  };

  // One live status: whatever run holds the account (this page's, the schedule's, a
  // colleague's, or one started before a reload) is followed with its progress bar.
  const watch = async () => {
    if (!alive.current || following.current !== null) return;
    try {
      const res = await api.get(paths.runs, { query: { limit: 5 } });
      const list = Array.isArray(res.data) ? res.data : [];
      const newest = list[0] || null;
      if (!alive.current || following.current !== null || !newest) return;
      const holder = list.find((r) => isRunning(r));
      if (holder) {
        mine.current = false;
        setError(null);
        setItems(null);
        setRun(holder);
        setPhase("running");
        follow(runIdOf(holder));
        return;
      }
      const id = runIdOf(newest);
      if (!newest.dry_run && id > lastSeen() && !isFailed(newest)) {
        const found = await detailOf(id);
        if (alive.current && changedAtarys(found)) setBackground({ run: newest, items: found });
        else markSeen(id);
      }
    } catch {
      // The next look will tell.
    }
  };

  // A run starts being followed: the other cards (connection, history) tell it too.
  useEffect(() => {
    if (phase === "running" && onRunStarted) onRunStarted();
  }, [phase]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!connected) return undefined;
    watch();
    const every = setInterval(watch, watchInterval);
    return () => clearInterval(every);
  }, [connected]); // eslint-disable-line react-hooks/exhaustive-deps

  const start = async (force = false) => {
    if (starting.current || following.current !== null) return;
    starting.current = true;
    setAskForce(false);
    setError(null);
    setRun(null);
    setItems(null);
    setPreview(null);
    setPhase("starting");
    mine.current = true;
    try {
      const body = { async: true };
      if (force) body.force = true;
      const res = await api.post(paths.syncAll, body);
      if (!alive.current) return;
      const current = runOf(res.data) || {};
      const id = runIdOf(res.data);
      // "déjà en cours": the answer is the run that already held the account.
      if (/déjà en cours/i.test(res.message || "")) mine.current = false;
      if (id !== null && (res.status === 202 || isRunning(current))) {
        setRun({ ...current, id, status: current.status || "running" });
        setPhase("running");
        follow(id);
      } else {
        await finish({ ...current, status: current.status || "finished" });
      }
    } catch (err) {
      if (!alive.current) return;
      if (classifyError(err) === "busy") {
        // Another run holds the account: show that one until it ends.
        setPhase("idle");
        await watch();
        return;
      }
      setError(err);
      setPhase("error");
    } finally {
      starting.current = false;
    }
  };

  const runPreview = async () => {
    setApplied(null);
    setPreview({ loading: true });
    setPhase((p) => (p === "done" || p === "error" ? "idle" : p)); // an old result no longer applies
    try {
      const res = await api.post(paths.syncAll, { dry_run: true });
      setPreview({ plan: res.data, message: res.message });
    } catch (err) {
      setPreview({ error: err });
    }
  };

  // "Appliquer ce plan": exactly the previewed items, once; the run is not followed by the
  // live status (this answer tells what was done).
  const applyPlan = async (force = false) => {
    const plan = preview && preview.plan;
    if (!plan || !plan.plan_id) return;
    setAskForceApply(false);
    setPreview((p) => ({ ...p, applying: true, applyError: null }));
    following.current = "apply";
    try {
      const res = await applyInBackground(plan.plan_id, {
        force,
        onProgress: (job) => alive.current && setPreview((p) => ({ ...p, progress: progressOf(job) })),
      });
      if (!alive.current) return;
      const result = res.data || {};
      markSeen(runIdOf(result));
      setPreview(null);
      setPhase("idle");
      setApplied({ previewed: itemsOf(plan), result });
      if (onRunFinished) onRunFinished(result);
    } catch (err) {
      if (alive.current) setPreview((p) => ({ ...p, applying: false, applyError: err }));
    } finally {
      following.current = null;
    }
  };

  const dismissBackground = () => {
    if (background) markSeen(runIdOf(background.run));
    setBackground(null);
  };

  const busy = phase === "starting" || phase === "running";
  const counts = phase === "done" ? countsOf(run) : null;
  const kind = error ? classifyError(error) : null;
  const planItems = preview && preview.plan ? itemsOf(preview.plan) : [];
  const previewCounts = preview && preview.plan ? planCounts(planItems) : null;
  const startedElsewhere = busy && run && !mine.current;

  return (
    <Card
      id="synchronisation"
      title="Synchronisation"
      actions={
        <>
          <Button variant="secondary" onClick={runPreview} disabled={busy || !connected || (preview && preview.loading)}>
            {preview && preview.loading ? "Calcul de l'aperçu…" : "Aperçu"}
          </Button>
          <Button onClick={() => start(false)} disabled={busy || !connected}>
            {busy ? "Synchronisation en cours…" : "Synchroniser avec Google Contacts"}
          </Button>
        </>
      }
    >
      {!connected && (
        <p className="text-sm text-slate-600">Connectez Google pour pouvoir synchroniser vos clients.</p>
      )}
      {applied && (
        <div className="mt-2">
          <AppliedNotice previewed={applied.previewed} result={applied.result}>
            <Button variant="secondary" className="mt-2" onClick={() => setApplied(null)}>
              Masquer
            </Button>
          </AppliedNotice>
        </div>
      )}
      {connected && phase === "idle" && !preview && !background && !applied && (
        <p className="text-sm text-slate-600">
          Envoie les clients ATARYS vers Google Contacts et importe les modifications faites dans Google. « Aperçu »
          montre ce qui changerait, sans rien écrire.
        </p>
      )}

      {background && !busy && (
        <Notice tone="info" className="mt-2" title={`Synchronisation ${triggerLabel(background.run)} du ${formatDate(background.run.finished_at || background.run.started_at)}`} data-testid="background-summary">
          <RunSummary items={background.items} />
          <Button variant="secondary" className="mt-2" onClick={dismissBackground}>
            J'ai vu, masquer
          </Button>
        </Notice>
      )}

      <div aria-live="polite">
        {busy && (
          <div className="mt-2" data-testid="sync-progress">
            <ProgressBar
              label={startedElsewhere ? `Synchronisation en cours (${triggerLabel(run)})` : "Synchronisation en cours"}
              done={run ? progressOf(run).done : 0}
              total={run ? progressOf(run).total : null}
            />
            {startedElsewhere && (
              <p className="mt-1 text-sm text-slate-600">
                Une synchronisation déjà lancée travaille en ce moment : son résultat s'affichera ici à la fin.
              </p>
            )}
          </div>
        )}
        {phase === "done" && (
          <div className="mt-2 space-y-3" data-testid="sync-result">
            <Notice tone={counts && (counts.atarys_to_google.errors || counts.google_to_atarys.errors) ? "warning" : "success"} title="Synchronisation terminée">
              {items === null ? <p>Chargement du détail…</p> : <RunSummary items={items} />}
              {counts && counts.conflicts > 0 && (
                <p className="mt-1">
                  {counts.conflicts} conflit{counts.conflicts > 1 ? "s" : ""} à régler : voir <a className="underline" href="#conflits">Conflits</a>.
                </p>
              )}
              {counts && counts.duplicates > 0 && (
                <p className="mt-1">
                  {counts.duplicates} doublon{counts.duplicates > 1 ? "s" : ""} à examiner : voir <a className="underline" href="#doublons">Doublons</a>.
                </p>
              )}
            </Notice>
            <details>
              <summary className="cursor-pointer text-sm text-slate-700">Voir les compteurs</summary>
              <div className="mt-2">
                <RunCounts counts={counts} />
              </div>
            </details>
          </div>
        )}
      </div>

      {phase === "error" && (
        <ErrorNotice error={error} className="mt-2">
          {kind === "breaker" && (
            <Button variant="danger" onClick={() => setAskForce(true)}>
              Forcer la synchronisation
            </Button>
          )}
          {kind === "breaker" && (
            <Button variant="secondary" onClick={runPreview}>
              Voir l'aperçu
            </Button>
          )}
          {kind !== "breaker" && kind !== "not_connected" && kind !== "revoked" && (
            <Button variant="secondary" onClick={() => start(false)}>
              Réessayer
            </Button>
          )}
        </ErrorNotice>
      )}

      {preview && !preview.loading && (
        <section aria-labelledby="apercu-titre" className="mt-4 border-t border-slate-200 pt-4" data-testid="sync-preview">
          <div className="flex flex-wrap items-center justify-between gap-2">
            <h3 id="apercu-titre" className="font-semibold">
              Aperçu des changements (rien n'a été écrit)
            </h3>
            <Button variant="ghost" onClick={() => setPreview(null)}>
              Fermer l'aperçu
            </Button>
          </div>
          {preview.error ? (
            <ErrorNotice error={preview.error} className="mt-2" />
          ) : (
            <div className="mt-2 space-y-3">
              {planItems.length > 0 && <RunSummary items={planItems} />}
              {previewCounts && planItems.length > 0 && <RunCounts counts={previewCounts} />}
              <ChangeList items={planItems} emptyText="Rien à synchroniser : les deux côtés sont déjà à jour." />
              {preview.plan.plan_id && planItems.length > 0 && (
                <div className="flex flex-wrap items-center gap-3 border-t border-slate-100 pt-3">
                  <Button onClick={() => applyPlan(false)} disabled={preview.applying || busy}>
                    {preview.applying ? "Application en cours…" : "Appliquer ce plan"}
                  </Button>
                  <PlanExpiry at={preview.plan.plan_expires_at} />
                </div>
              )}
              {preview.applying && preview.progress && (
                <div aria-live="polite" data-testid="apply-progress">
                  <ProgressBar label="Application de l'aperçu" done={preview.progress.done} total={preview.progress.total} />
                </div>
              )}
              <PlanErrorNotice error={preview.applyError} onPreviewAgain={runPreview}>
                {preview.applyError && classifyError(preview.applyError) === "breaker" && (
                  <Button variant="danger" onClick={() => setAskForceApply(true)}>
                    Appliquer quand même
                  </Button>
                )}
              </PlanErrorNotice>
            </div>
          )}
        </section>
      )}

      {askForceApply && (
        <ConfirmDialog
          title="Appliquer malgré la sécurité ?"
          confirmLabel="Oui, appliquer ce plan"
          onConfirm={() => applyPlan(true)}
          onCancel={() => setAskForceApply(false)}
        >
          <p>Ce plan supprime un grand nombre de fiches ; il a été bloqué par sécurité.</p>
          <p className="mt-2">Relisez l'aperçu : ne continuez que si ces suppressions sont voulues.</p>
        </ConfirmDialog>
      )}

      {askForce && (
        <ConfirmDialog
          title="Forcer la synchronisation ?"
          confirmLabel="Oui, forcer la synchronisation"
          onConfirm={() => start(true)}
          onCancel={() => setAskForce(false)}
        >
          <p>
            Cette synchronisation va supprimer un grand nombre de fiches. Elle a été bloquée par sécurité.
          </p>
          {error && error.message && <p className="mt-2 font-medium">{error.message}</p>}
          <p className="mt-2">Ne continuez que si vous êtes sûr que ces suppressions sont voulues.</p>
        </ConfirmDialog>
      )}
    </Card>
  );
}
