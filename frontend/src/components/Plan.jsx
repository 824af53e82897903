// A plan told by name (first sync, preview, undo), what an applied plan did, and the
// errors of "Appliquer" (already applied, expired) with the way out: preview again.
import { useState } from "react";
import { classifyError } from "../lib/errors.js";
import { formatDate } from "../lib/format.js";
import { appliedItems, itemName, planGroups } from "../lib/sync.js";
import { Button, ErrorNotice, Notice } from "./ui.jsx";

const SHOWN = 8;

const SIDES = [
  { side: "google", title: "Vers Google Contacts" },
  { side: "atarys", title: "Vers ATARYS" },
  { side: "both", title: "Des deux côtés" },
];

/** Names, the first few shown, the rest behind "Voir les N autres". */
export function NameList({ items, reason = false }) {
  const names = items.map((i) => (
    <li key={`${i.action}-${i.client_id ?? ""}-${i.resource_name ?? ""}-${i.name}`}>
      {itemName(i)}
      {i.email && i.action === "duplicate" ? <span className="text-slate-600"> ({i.email})</span> : null}
      {reason && i.reason ? <span className="block text-xs text-slate-600">{i.reason}</span> : null}
    </li>
  ));
  return (
    <>
      <ul className="mt-1 list-disc space-y-0.5 pl-5 text-sm break-words">{names.slice(0, SHOWN)}</ul>
      {names.length > SHOWN && (
        <details className="mt-1 text-sm">
          <summary className="cursor-pointer text-blue-800">Voir les {names.length - SHOWN} autres</summary>
          <ul className="mt-1 list-disc space-y-0.5 pl-5 break-words">{names.slice(SHOWN)}</ul>
        </details>
      )}
    </>
  );
}

/** The plan by direction: "Vers Google Contacts" / "Vers ATARYS" / "Des deux côtés", each group by name. */
export function PlanView({ items, emptyText = "Rien à synchroniser : les deux côtés sont déjà à jour." }) {
  const groups = planGroups(items);
  if (!groups.length) return <p className="text-sm text-slate-600">{emptyText}</p>;
  return (
    <div className="grid grid-cols-1 gap-3 md:grid-cols-2" data-testid="plan-view">
      {SIDES.map(({ side, title }) => {
        const mine = groups.filter((g) => g.side === side);
        if (!mine.length && side === "both") return null;
        return (
          <section key={side} className={`rounded-md border border-slate-200 p-3 ${side === "both" ? "md:col-span-2" : ""}`} aria-label={title}>
            <h4 className="text-sm font-semibold">{title}</h4>
            {!mine.length && <p className="mt-2 text-sm text-slate-600">Aucun changement de ce côté.</p>}
            {mine.map((g) => (
              <div key={g.key} className="mt-2" data-plan-group={g.key}>
                <p className="text-sm font-medium">
                  {g.title} : <span data-count={g.key}>{g.items.length}</span>
                </p>
                <NameList items={g.items} />
              </div>
            ))}
          </section>
        );
      })}
    </div>
  );
}

/** What "Appliquer" did: the items applied by name, and those changed since the preview. */
export function AppliedNotice({ title = "Aperçu appliqué", previewed, result, children }) {
  const changed = (result && result.changed_since_preview) || [];
  const all = appliedItems(previewed, changed);
  const done = all.filter((i) => i.action !== "duplicate");
  const duplicates = all.length - done.length;
  return (
    <Notice tone={changed.length ? "warning" : "success"} title={title} data-testid="plan-applied">
      <PlanView items={done} emptyText="Rien n'a eu besoin d'être modifié." />
      {duplicates > 0 && (
        <p className="mt-2">
          {duplicates} doublon{duplicates > 1 ? "s" : ""} à examiner (rien n'a été fusionné) : voir{" "}
          <a className="underline" href="#doublons">
            Doublons
          </a>
          .
        </p>
      )}
      {changed.length > 0 && (
        <div className="mt-3" data-testid="changed-since-preview">
          <p className="font-medium">
            {changed.length} élément{changed.length > 1 ? "s" : ""} modifié{changed.length > 1 ? "s" : ""} depuis l'aperçu, non
            appliqué{changed.length > 1 ? "s" : ""} :
          </p>
          <ul className="mt-1 list-disc pl-5">
            {changed.map((c) => (
              <li key={`${c.action}-${c.client_id ?? ""}-${c.resource_name ?? ""}-${c.name}`}>
                {itemName(c)} — modifié depuis l'aperçu, non appliqué
              </li>
            ))}
          </ul>
          <p className="mt-1">La prochaine synchronisation les reprendra avec leurs nouvelles valeurs ; un nouvel aperçu les montre dès maintenant.</p>
        </div>
      )}
      {children}
    </Notice>
  );
}

const PLAN_ERRORS = {
  409: "Cet aperçu a déjà été appliqué",
  410: "Cet aperçu a expiré",
  404: "Cet aperçu n'existe plus",
};

/** An "Appliquer" that failed: already applied (409), expired (410), unknown (404) → preview again. */
export function PlanErrorNotice({ error, onPreviewAgain, children, className = "" }) {
  if (!error) return null;
  const kind = classifyError(error);
  const title = PLAN_ERRORS[error.status];
  if (title && kind !== "busy" && kind !== "breaker" && kind !== "revoked" && kind !== "not_connected") {
    return (
      <Notice tone="warning" title={title} className={className} data-testid="plan-error">
        <p>{error.message}</p>
        <p className="mt-1 font-medium">Rien n'a été écrit par ce bouton. Refaites un aperçu pour voir ce qui reste à faire, puis appliquez-le.</p>
        <div className="mt-2 flex flex-wrap gap-2">
          {onPreviewAgain && <Button variant="secondary" onClick={onPreviewAgain}>Refaire l'aperçu</Button>}
          {children}
        </div>
      </Notice>
    );
  }
  return (
    <ErrorNotice error={error} className={className} data-testid="plan-error">
      {onPreviewAgain && <Button variant="secondary" onClick={onPreviewAgain}>Refaire l'aperçu</Button>}
      {children}
    </ErrorNotice>
  );
}

/** "Valable jusqu'à 14:32" under a preview that can be applied. */
export function PlanExpiry({ at }) {
  const [now] = useState(() => Date.now());
  if (!at) return null;
  const when = Date.parse(at);
  if (Number.isNaN(when)) return null;
  return (
    <p className="text-xs text-slate-600">
      Cet aperçu peut être appliqué jusqu'au {formatDate(at)}
      {when < now ? " (expiré : refaites un aperçu)" : ""}.
    </p>
  );
}
