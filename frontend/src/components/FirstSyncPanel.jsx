// "Première synchronisation": right after connecting, nothing is written until a person has
// seen, by name, what the first sync would do, made the choices that matter, and pressed
// "Appliquer" (exactly the previewed plan).
import { useEffect, useRef, useState } from "react";
import { api, paths } from "../lib/api.js";
import { applyInBackground, followJob } from "../lib/apply.js";
import { isRunning, itemsOf, planGroups, progressOf, runIdOf } from "../lib/sync.js";
import { conflictPolicyValues, deletionSettingValues } from "../generated/api.ts";
import { PlanErrorNotice, PlanExpiry, PlanView } from "./Plan.jsx";
import { ATARYS_DELETION_LABELS, GOOGLE_DELETION_LABELS, POLICY_LABELS } from "./SettingsPanel.jsx";
import { Button, Card, ErrorNotice, Notice, ProgressBar } from "./ui.jsx";

const SCOPES = [
  { value: "group", label: "Seulement les contacts du libellé « ATARYS »", hint: "Recommandé : les contacts personnels des téléphones restent en dehors d'ATARYS." },
  { value: "all", label: "Tous les contacts Google", hint: "Chaque contact du carnet d'adresses Google devient un client ATARYS." },
];
const CHOICES = ["import_scope", "google_deletions", "atarys_deletions", "conflict_policy"];

/** How many Google contacts a preview brings into ATARYS (new clients). */
export function incomingCount(items) {
  const group = planGroups(items).find((g) => g.key === "atarys_create");
  return group ? group.items.length : 0;
}

function Select({ label, value, options, labels, onChange, hint }) {
  const id = `premiere-${label.replace(/\W+/g, "-")}`;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <select id={id} value={value ?? ""} onChange={(e) => onChange(e.target.value)} className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
        {options.map((v) => (
          <option key={v} value={v}>
            {labels[v] || v}
          </option>
        ))}
      </select>
      {hint && <p className="mt-1 text-xs text-slate-600">{hint}</p>}
    </div>
  );
}

export default function FirstSyncPanel({ onApplied }) {
  const [saved, setSaved] = useState(null); // the account's settings (what the preview used)
  const [draft, setDraft] = useState(null); // the choices on screen
  const [counts, setCounts] = useState({}); // Google contacts coming in, per import scope
  const [preview, setPreview] = useState(null); // {items, plan_id, plan_expires_at}
  const [phase, setPhase] = useState("loading"); // loading | ready | saving | applying
  const [error, setError] = useState(null);
  const [applyError, setApplyError] = useState(null);
  const [progress, setProgress] = useState(null); // the applying job's {done, total}
  const alive = useRef(true);
  useEffect(() => () => (alive.current = false), []);

  const dryRun = async () => {
    const res = await api.post(paths.syncAll, { dry_run: true });
    const data = res.data || {};
    return { items: itemsOf(data), plan_id: data.plan_id, plan_expires_at: data.plan_expires_at };
  };

  // The preview of the saved choices; with `both`, also the count of the other import scope
  // (its scope saved for one preview, then the chosen one saved back: nothing else is written).
  const load = async (settings, both) => {
    setError(null);
    setApplyError(null);
    const scope = settings.import_scope || "group";
    const found = {};
    if (both) {
      const other = scope === "group" ? "all" : "group";
      try {
        await api.put(paths.settings, { import_scope: other });
        found[other] = incomingCount((await dryRun()).items);
      } catch {
        found[other] = null;
      } finally {
        await api.put(paths.settings, { import_scope: scope });
      }
    }
    const plan = await dryRun();
    found[scope] = incomingCount(plan.items);
    if (!alive.current) return;
    setCounts((c) => ({ ...c, ...found }));
    setPreview(plan);
  };

  // The first sync already being applied (the page was reloaded, or opened elsewhere):
  // follow that job rather than previewing again; the page moves on when it ends.
  const followRunning = async () => {
    let running = null;
    try {
      const res = await api.get(paths.runs, { query: { limit: 5 } });
      running = (Array.isArray(res.data) ? res.data : []).find((r) => isRunning(r) && !r.dry_run);
    } catch {
      return false; // the history cannot tell: the preview below will say if a run holds it
    }
    if (!running || !alive.current) return false;
    setPhase("applying");
    setProgress(progressOf(running));
    try {
      const now = (await api.get(paths.run(runIdOf(running)))).data || {};
      await followJob(now, { onProgress: (job) => alive.current && setProgress(progressOf(job)) });
      if (alive.current && onApplied) onApplied(null); // the history tells what it did
      return true;
    } catch (err) {
      if (alive.current) setApplyError(err);
      return false;
    }
  };

  const start = async () => {
    setPhase("loading");
    try {
      if (await followRunning()) return;
      const res = await api.get(paths.settings);
      const settings = res.data || {};
      setSaved(settings);
      setDraft(Object.fromEntries(CHOICES.map((k) => [k, settings[k]])));
      await load(settings, true);
    } catch (err) {
      if (alive.current) setError(err);
    }
    if (alive.current) setPhase("ready");
  };

  useEffect(() => {
    start();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const dirty = Boolean(saved && draft && CHOICES.some((k) => draft[k] !== saved[k]));

  const saveAndPreview = async () => {
    setPhase("saving");
    setPreview(null);
    try {
      const res = await api.put(paths.settings, draft);
      const settings = { ...saved, ...(res.data || draft) };
      setSaved(settings);
      await load(settings, false);
    } catch (err) {
      if (alive.current) setError(err);
    }
    if (alive.current) setPhase("ready");
  };

  const previewAgain = async () => {
    setPhase("loading");
    setPreview(null);
    try {
      await load(saved, false);
    } catch (err) {
      if (alive.current) setError(err);
    }
    if (alive.current) setPhase("ready");
  };

  const apply = async () => {
    setPhase("applying");
    setApplyError(null);
    setProgress(null);
    try {
      // a job on the server: a whole address book takes minutes, beyond any request's time
      const res = await applyInBackground(preview.plan_id, {
        onProgress: (job) => alive.current && setProgress(progressOf(job)),
      });
      if (onApplied) onApplied({ result: res.data || {}, message: res.message, previewed: preview.items });
    } catch (err) {
      if (alive.current) setApplyError(err);
    }
    if (alive.current) setPhase("ready");
  };

  const set = (key) => (value) => setDraft((d) => ({ ...d, [key]: value }));
  const busy = phase !== "ready";
  const countText = (scope) => {
    const n = counts[scope];
    if (n === undefined) return "calcul…";
    if (n === null) return "nombre inconnu";
    return `${n} contact${n > 1 ? "s" : ""} Google importé${n > 1 ? "s" : ""}`;
  };

  return (
    <Card id="synchronisation" title="Première synchronisation">
      {phase === "applying" ? (
        <Notice tone="info" title="Application en cours">
          L'aperçu a été validé : ATARYS écrit maintenant dans Google et dans ATARYS exactement ce qui y était affiché. Vous
          pouvez quitter cette page ; l'historique dira ce qui a été fait.
        </Notice>
      ) : (
        <Notice tone="info" title="Rien n'a encore été écrit">
          Google est connecté. Avant tout échange, vérifiez ci-dessous ce que la première synchronisation ferait, contact par
          contact, et faites vos choix. Rien ne sera écrit ni dans Google ni dans ATARYS avant que vous cliquiez sur
          « Appliquer » ; les synchronisations automatiques attendent aussi.
        </Notice>
      )}

      <ErrorNotice error={error} className="mt-3">
        <Button variant="secondary" onClick={start}>
          Réessayer
        </Button>
      </ErrorNotice>

      {draft && (
        <form
          className="mt-4 space-y-4"
          aria-label="Choix de la première synchronisation"
          onSubmit={(e) => {
            e.preventDefault();
            saveAndPreview();
          }}
        >
          <fieldset>
            <legend className="text-sm font-medium">Quels contacts Google entrent dans ATARYS ?</legend>
            <div className="mt-1 space-y-2">
              {SCOPES.map((s) => (
                <label key={s.value} className="flex items-start gap-2 rounded-md border border-slate-200 p-2 text-sm">
                  <input type="radio" name="premiere-import" className="mt-1" checked={draft.import_scope === s.value} onChange={() => set("import_scope")(s.value)} />
                  <span>
                    <span className="font-medium">{s.label}</span> — <span data-scope-count={s.value}>{countText(s.value)}</span>
                    <span className="block text-xs text-slate-600">{s.hint}</span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
          <div className="grid grid-cols-1 gap-4 sm:grid-cols-3">
            <Select
              label="Contact supprimé sur un téléphone"
              value={draft.google_deletions}
              options={deletionSettingValues}
              labels={GOOGLE_DELETION_LABELS}
              onChange={set("google_deletions")}
              hint="Que faire du client ATARYS quand son contact est supprimé dans Google."
            />
            <Select
              label="Client supprimé dans ATARYS"
              value={draft.atarys_deletions}
              options={deletionSettingValues}
              labels={ATARYS_DELETION_LABELS}
              onChange={set("atarys_deletions")}
              hint="Que faire du contact Google quand son client est supprimé dans ATARYS."
            />
            <Select
              label="En cas de conflit"
              value={draft.conflict_policy}
              options={conflictPolicyValues}
              labels={POLICY_LABELS}
              onChange={set("conflict_policy")}
              hint="Quand la même information a changé des deux côtés."
            />
          </div>
          {dirty && (
            <div className="flex flex-wrap items-center gap-2">
              <Button type="submit" variant="secondary" disabled={busy}>
                Enregistrer ces choix et refaire l'aperçu
              </Button>
              <span className="text-sm text-amber-800">Choix modifiés : enregistrez-les pour mettre l'aperçu à jour avant d'appliquer.</span>
            </div>
          )}
        </form>
      )}

      <section aria-labelledby="premiere-apercu" className="mt-4 border-t border-slate-200 pt-4" aria-busy={busy ? "true" : undefined}>
        <h3 id="premiere-apercu" className="font-semibold">
          {phase === "applying" ? "Avancement" : "Ce que la première synchronisation ferait"}
        </h3>
        {busy && phase !== "applying" && (
          <p role="status" className="mt-2 text-sm text-slate-600">
            Calcul de l'aperçu… (rien n'est écrit)
          </p>
        )}
        {preview && (
          <div className="mt-2 space-y-3" data-testid="first-sync-preview">
            <PlanView items={preview.items} emptyText="Rien à échanger : les deux côtés sont déjà identiques." />
            <PlanExpiry at={preview.plan_expires_at} />
          </div>
        )}
        {phase === "applying" && (
          <div className="mt-3" aria-live="polite" data-testid="first-sync-progress">
            <ProgressBar label="Application de la première synchronisation" done={progress ? progress.done : 0} total={progress ? progress.total : null} />
            <p className="mt-1 text-xs text-slate-600">Vous pouvez quitter cette page : l'application continue sur le serveur.</p>
          </div>
        )}
        <PlanErrorNotice error={applyError} onPreviewAgain={previewAgain} className="mt-3" />
        {preview && (
          <div className="mt-4 flex flex-wrap items-center gap-2">
            <Button onClick={apply} disabled={busy || dirty || !preview.plan_id}>
              {phase === "applying" ? "Application en cours…" : "Appliquer"}
            </Button>
            <Button variant="secondary" onClick={previewAgain} disabled={busy}>
              Refaire l'aperçu
            </Button>
          </div>
        )}
      </section>
    </Card>
  );
}
