// Past runs: a small chart (items and duration per run), a table, and one run's detail.
import { useEffect, useState } from "react";
import { api, paths } from "../lib/api.js";
import { applyInBackground } from "../lib/apply.js";
import { formatDate, formatDuration, formatShortDate } from "../lib/format.js";
import { countsOf, durationOf, isFailed, isRunning, itemsOf, runOf, totalItems, triggerLabel } from "../lib/sync.js";
import { classifyError } from "../lib/errors.js";
import { AppliedNotice, NameList, PlanErrorNotice, PlanView } from "./Plan.jsx";
import { ChangeList, RunCounts, runError } from "./SyncPanel.jsx";
import { Badge, Button, Card, Dialog, ErrorNotice, Notice } from "./ui.jsx";

function statusBadge(run) {
  if (run.dry_run) return <Badge tone="slate">Aperçu (rien écrit)</Badge>;
  if (isRunning(run)) return <Badge tone="blue">En cours</Badge>;
  if (String(run.status) === "refused") return <Badge tone="amber">Bloquée (sécurité)</Badge>;
  if (isFailed(run)) return <Badge tone="red">Échec</Badge>;
  if (String(run.status) === "partial") return <Badge tone="amber">Terminée avec erreurs</Badge>;
  const c = countsOf(run);
  if (c && (c.atarys_to_google.errors || c.google_to_atarys.errors)) return <Badge tone="amber">Terminée avec erreurs</Badge>;
  return <Badge tone="green">Réussie</Badge>;
}

/** Bars: items changed per run; dots and line: duration. Oldest on the left. */
export function RunsChart({ runs }) {
  const data = [...runs].filter((r) => !r.dry_run).reverse().slice(-20).map((r) => ({ id: r.id, at: r.started_at, items: totalItems(r), duration: durationOf(r) ?? 0 }));
  if (!data.length) return null;
  const width = 600;
  // A lone run still gets a readable bar: at least 4 slots.
  const slots = Math.max(data.length, 4);
  const height = 160;
  const pad = { left: 34, right: 48, top: 12, bottom: 30 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const maxItems = Math.max(1, ...data.map((d) => d.items));
  const maxDur = Math.max(0.001, ...data.map((d) => d.duration));
  const slot = innerW / slots;
  const barW = Math.max(4, Math.min(28, slot * 0.6));
  const x = (i) => pad.left + slot * i + slot / 2;
  const yItems = (v) => pad.top + innerH - (v / maxItems) * innerH;
  const yDur = (v) => pad.top + innerH - (v / maxDur) * innerH;
  const line = data.map((d, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${yDur(d.duration).toFixed(1)}`).join(" ");
  const summary = `Graphique des ${data.length} dernières synchronisations : au plus ${maxItems} éléments modifiés et ${formatDuration(maxDur)} de durée.`;
  return (
    <figure className="mt-2 hidden sm:block">
      <svg viewBox={`0 0 ${width} ${height}`} className="h-auto w-full" role="img" aria-label={summary}>
        <line x1={pad.left} x2={width - pad.right} y1={pad.top + innerH} y2={pad.top + innerH} stroke="#cbd5e1" />
        <text x={pad.left - 4} y={pad.top + 8} textAnchor="end" fontSize="10" fill="#475569">{maxItems}</text>
        <text x={pad.left - 4} y={pad.top + innerH} textAnchor="end" fontSize="10" fill="#475569">0</text>
        <text x={width - pad.right + 4} y={pad.top + 8} fontSize="10" fill="#b45309">{formatDuration(maxDur)}</text>
        {data.map((d, i) => (
          <rect key={d.id ?? i} x={x(i) - barW / 2} y={yItems(d.items)} width={barW} height={pad.top + innerH - yItems(d.items)} rx="2" fill="#2563eb">
            <title>{`Synchronisation du ${formatDate(d.at)} : ${d.items} élément(s), ${formatDuration(d.duration)}`}</title>
          </rect>
        ))}
        {data.map((d, i) =>
          i === 0 || i === data.length - 1 || data.length <= 6 || i % Math.ceil(data.length / 5) === 0 ? (
            <text key={`t${d.id ?? i}`} x={x(i)} y={height - 8} textAnchor="middle" fontSize="10" fill="#475569">
              {formatShortDate(d.at)}
            </text>
          ) : null,
        )}
        <text x={width - pad.right + 4} y={pad.top + innerH} fontSize="10" fill="#b45309">0</text>
        <path d={line} fill="none" stroke="#d97706" strokeWidth="2" />
        {data.map((d, i) => (
          <circle key={`c${d.id ?? i}`} cx={x(i)} cy={yDur(d.duration)} r="3" fill="#d97706" />
        ))}
      </svg>
      <figcaption className="mt-1 flex flex-wrap gap-4 text-xs text-slate-600">
        <span><span aria-hidden="true" className="mr-1 inline-block h-2 w-3 bg-blue-600" />Éléments modifiés (échelle de gauche)</span>
        <span><span aria-hidden="true" className="mr-1 inline-block h-2 w-3 bg-amber-600" />Durée (échelle de droite)</span>
      </figcaption>
    </figure>
  );
}

function RunDetail({ id, when, onClose }) {
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api
      .get(paths.run(id))
      .then((res) => setRun(runOf(res.data)))
      .catch(setError);
  }, [id]);
  return (
    <Dialog title={`Synchronisation${when ? ` du ${formatDate(when)}` : ""}`} onClose={onClose}>
      <ErrorNotice error={error} />
      {!run && !error && <p role="status">Chargement…</p>}
      {run && (
        <div className="space-y-3 text-sm" data-testid="run-detail">
          <div className="flex flex-wrap items-center gap-2">
            {statusBadge(run)}
            <span>Début : {formatDate(run.started_at)}</span>
            <span>Durée : {formatDuration(durationOf(run))}</span>
          </div>
          {(run.error || run.error_message) && <ErrorNotice error={runError(run)} />}
          <RunCounts counts={countsOf(run)} />
          <h3 className="font-semibold">Ce qui a changé</h3>
          <ChangeList items={itemsOf(run)} emptyText="Aucun changement pendant cette synchronisation." />
        </div>
      )}
    </Dialog>
  );
}

/** Whether a history row can be undone: a finished run that wrote (not a preview). */
export function undoable(run) {
  return !run.dry_run && !isRunning(run) && String(run.status) !== "refused" && totalItems(run) > 0;
}

/** "Annuler cette synchronisation": preview the undo by name (and what is left alone), then apply it. */
export function UndoDialog({ run, onClose, onDone }) {
  const [plan, setPlan] = useState(null); // {items, skipped, plan_id}
  const [error, setError] = useState(null);
  const [applying, setApplying] = useState(false);
  const [applyError, setApplyError] = useState(null);
  const [result, setResult] = useState(null);

  const preview = () => {
    setPlan(null);
    setError(null);
    setApplyError(null);
    api
      .post(paths.undo(run.id), { dry_run: true })
      .then((res) => {
        const data = res.data || {};
        setPlan({ items: itemsOf(data), skipped: data.skipped || [], plan_id: data.plan_id });
      })
      .catch(setError);
  };
  useEffect(preview, [run.id]); // eslint-disable-line react-hooks/exhaustive-deps

  const apply = async (force = false) => {
    setApplying(true);
    setApplyError(null);
    try {
      const res = await applyInBackground(plan.plan_id, { force });
      setResult(res.data || {});
      if (onDone) onDone();
    } catch (err) {
      setApplyError(err);
    } finally {
      setApplying(false);
    }
  };

  const when = formatDate(run.started_at || run.created_at);
  const nothing = plan && plan.items.length === 0;
  return (
    <Dialog
      title={`Annuler la synchronisation du ${when}`}
      onClose={onClose}
      footer={
        result ? (
          <Button onClick={onClose}>Fermer</Button>
        ) : (
          <>
            <Button variant="secondary" onClick={onClose}>
              Ne rien changer
            </Button>
            <Button onClick={() => apply(false)} disabled={!plan || nothing || applying || !plan.plan_id}>
              {applying ? "Annulation en cours…" : "Appliquer l'annulation"}
            </Button>
          </>
        )
      }
    >
      <div className="space-y-3 text-sm" data-testid="undo-dialog">
        <ErrorNotice error={error}>
          <Button variant="secondary" onClick={preview}>
            Réessayer
          </Button>
        </ErrorNotice>
        {!plan && !error && <p role="status">Calcul de ce que l'annulation ferait… (rien n'est écrit)</p>}
        {result && (
          <AppliedNotice title="Synchronisation annulée" previewed={plan ? plan.items : []} result={result}>
            <p className="mt-2">Cette annulation apparaît dans l'historique : elle peut elle-même être annulée.</p>
          </AppliedNotice>
        )}
        {plan && !result && (
          <>
            <p>
              Rien n'a encore été modifié. Voici ce que l'annulation remettrait comme avant cette synchronisation ; cliquez sur
              « Appliquer l'annulation » pour le faire.
            </p>
            <PlanView items={plan.items} emptyText="Il n'y a rien à remettre comme avant." />
            {plan.skipped.length > 0 && (
              <Notice tone="warning" title={`Laissé${plan.skipped.length > 1 ? "s" : ""} tel${plan.skipped.length > 1 ? "s" : ""} quel${plan.skipped.length > 1 ? "s" : ""} : ${plan.skipped.length}`} data-testid="undo-skipped">
                <p>Ces fiches ont été modifiées depuis : l'annulation ne les touche pas.</p>
                <NameList items={plan.skipped} reason />
              </Notice>
            )}
          </>
        )}
        <PlanErrorNotice error={applyError} onPreviewAgain={preview}>
          {applyError && classifyError(applyError) === "breaker" && (
            <Button variant="danger" onClick={() => apply(true)}>
              Appliquer l'annulation quand même
            </Button>
          )}
        </PlanErrorNotice>
      </div>
    </Dialog>
  );
}

export default function RunsHistory({ refreshKey, onChanged }) {
  const [runs, setRuns] = useState([]);
  const [error, setError] = useState(null);
  const [open, setOpen] = useState(null);
  const [showPreviews, setShowPreviews] = useState(false);
  const [undoing, setUndoing] = useState(null);

  useEffect(() => {
    api
      .get(paths.runs, { query: { limit: 20, dry_run: showPreviews ? undefined : "false" } })
      .then((res) => {
        setRuns(Array.isArray(res.data) ? res.data : itemsOf(res.data));
        setError(null);
      })
      .catch(setError);
  }, [refreshKey, showPreviews]);

  return (
    <Card
      id="historique"
      title="Historique des synchronisations"
      actions={
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={showPreviews} onChange={(e) => setShowPreviews(e.target.checked)} />
          Montrer aussi les aperçus
        </label>
      }
    >
      <ErrorNotice error={error} />
      {!error && runs.length === 0 && <p className="text-sm text-slate-600">Aucune synchronisation pour l'instant.</p>}
      {runs.length > 0 && (
        <>
          <RunsChart runs={runs} />
          <div className="mt-3 relative overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Liste des synchronisations</caption>
              <thead className="text-slate-600">
                <tr>
                  <th scope="col" className="py-1 pr-2">Date</th>
                  <th scope="col" className="py-1 pr-2">État</th>
                  <th scope="col" className="hidden py-1 pr-2 sm:table-cell">Déclenchée par</th>
                  <th scope="col" className="hidden py-1 pr-2 text-right sm:table-cell">Éléments</th>
                  <th scope="col" className="hidden py-1 pr-2 text-right sm:table-cell">Durée</th>
                  <th scope="col" className="py-1"><span className="sr-only">Détail</span></th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id} className="border-t border-slate-100" data-run-id={r.id}>
                    <td className="py-1 pr-2">
                      <span className="whitespace-nowrap">{formatDate(r.started_at || r.created_at)}</span>
                      <span className="block text-xs text-slate-600 sm:hidden">
                        {totalItems(r)} élément{totalItems(r) > 1 ? "s" : ""} · {triggerLabel(r)}
                      </span>
                    </td>
                    <td className="py-1 pr-2">{statusBadge(r)}</td>
                    <td className="hidden py-1 pr-2 sm:table-cell">{triggerLabel(r)}</td>
                    <td className="hidden py-1 pr-2 text-right sm:table-cell">{totalItems(r)}</td>
                    <td className="hidden py-1 pr-2 text-right sm:table-cell">{formatDuration(durationOf(r))}</td>
                    <td className="py-1 text-right">
                      <div className="flex flex-col items-end gap-1 sm:flex-row sm:justify-end">
                        <Button variant="ghost" size="sm" onClick={() => setOpen(r)} aria-label={`Voir le détail de la synchronisation du ${formatDate(r.started_at)}`}>
                          Détail
                        </Button>
                        {undoable(r) && (
                          <Button variant="ghost" size="sm" className="whitespace-nowrap" onClick={() => setUndoing(r)} title="Annuler cette synchronisation">
                            <span className="sm:hidden">Annuler</span>
                            <span className="hidden sm:inline">Annuler cette synchronisation</span>
                          </Button>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {open !== null && <RunDetail id={open.id} when={open.started_at} onClose={() => setOpen(null)} />}
      {undoing !== null && <UndoDialog run={undoing} onClose={() => setUndoing(null)} onDone={onChanged} />}
    </Card>
  );
}
