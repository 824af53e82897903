// Duplicates: the records side by side (differences highlighted), « Ce ne sont pas des
// doublons », and « Fusionner » (choose each field's value) when the server offers it.
import { useEffect, useState } from "react";
import { api, paths } from "../lib/api.js";
import { FIELD_LABELS, formatPhone, showValue } from "../lib/format.js";
import { Button, Card, Dialog, Email, ErrorNotice, Notice } from "./ui.jsx";

const PAGE = 10;
const FIELDS = Object.keys(FIELD_LABELS);
const SIDES = { atarys: "ATARYS", google: "Google" };

/** The one wording of why records are grouped. */
export function duplicateTitle(group) {
  const email = group.email ? ` : ${group.email}` : "";
  return `Même adresse e-mail${email}`;
}

function recordsOf(group) {
  return Array.isArray(group.records) ? group.records : [];
}

function display(field, value) {
  if (field === "telephone" && value) return <span className="whitespace-nowrap">{formatPhone(value)}</span>;
  if (field === "email" && value) return <Email value={value} />;
  return showValue(value);
}

/** Fields whose values differ between the records (shown highlighted). */
export function differingFields(records) {
  return FIELDS.filter((f) => new Set(records.map((r) => String((r.fields || {})[f] ?? "").trim().toLowerCase())).size > 1);
}

function MergeDialog({ group, onClose, onMerged, onUnavailable }) {
  const records = recordsOf(group);
  const [keep, setKeep] = useState(0);
  const [values, setValues] = useState(() => Object.fromEntries(FIELDS.map((f) => [f, (records.find((r) => (r.fields || {})[f]) || records[0] || { fields: {} }).fields[f] ?? null])));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const differing = differingFields(records);
  const submit = async () => {
    setBusy(true);
    setError(null);
    const kept = records[keep] || {};
    try {
      const res = await api.post(paths.merge(group.id), {
        keep_client_id: kept.client_id ?? null,
        keep_resource_name: kept.resource_name ?? null,
        values,
      });
      onMerged(res.message || "Fiches fusionnées.");
    } catch (err) {
      if (err.status === 404 || err.status === 501) onUnavailable();
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title="Fusionner ces fiches" onClose={onClose}>
      <p className="text-sm">Choisissez la fiche à garder, puis la valeur de chaque champ. Les autres fiches seront supprimées.</p>
      <fieldset className="mt-3">
        <legend className="text-sm font-medium">Fiche à garder</legend>
        {records.map((r, i) => (
          <label key={i} className="mt-1 flex items-center gap-2 text-sm">
            <input type="radio" name="garder" checked={keep === i} onChange={() => setKeep(i)} />
            {r.name} <span className="text-xs text-slate-600">({SIDES[r.side] || r.side})</span>
          </label>
        ))}
      </fieldset>
      <div className="mt-3 space-y-3">
        {differing.map((f) => (
          <fieldset key={f}>
            <legend className="text-sm font-medium">{FIELD_LABELS[f]}</legend>
            {[...new Set(records.map((r) => (r.fields || {})[f] ?? null))].map((v, i) => (
              <label key={i} className="mt-1 flex items-center gap-2 text-sm">
                <input type="radio" name={`champ-${f}`} checked={values[f] === v} onChange={() => setValues((x) => ({ ...x, [f]: v }))} />
                {display(f, v)}
              </label>
            ))}
          </fieldset>
        ))}
      </div>
      <ErrorNotice error={error} className="mt-3" />
      <div className="mt-4 flex justify-end gap-2">
        <Button variant="secondary" onClick={onClose}>
          Annuler
        </Button>
        <Button onClick={submit} disabled={busy}>
          {busy ? "Fusion…" : "Fusionner"}
        </Button>
      </div>
    </Dialog>
  );
}

function DuplicateGroup({ group, canMerge, onDismiss, onMerge }) {
  const records = recordsOf(group);
  const differing = new Set(differingFields(records));
  return (
    <li className="rounded-md border border-purple-200 p-3 text-sm" data-testid="duplicate">
      <p className="font-medium">{duplicateTitle(group)}</p>
      {/* On a phone each field's name goes on its own line above the values, which then
          get the whole width side by side (no sideways scrolling to see the second record). */}
      <div className="relative mt-2 overflow-x-auto">
        <table className="block w-full text-left text-sm sm:table">
          <thead className="block sm:table-header-group">
            <tr className="flex text-xs text-slate-600 sm:table-row">
              <th scope="col" className="hidden py-1 pr-2 sm:table-cell">Champ</th>
              {records.map((r, i) => (
                <th key={i} scope="col" className="min-w-0 flex-1 basis-0 py-1 pr-2">
                  {r.name} <span className="font-normal">({SIDES[r.side] || r.side})</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="block sm:table-row-group">
            {FIELDS.filter((f) => records.some((r) => (r.fields || {})[f])).map((f) => (
              <tr
                key={f}
                className={`flex flex-wrap border-t border-slate-100 sm:table-row sm:border-0 ${differing.has(f) ? "bg-amber-50" : ""}`}
                data-differs={differing.has(f) ? "true" : undefined}
              >
                <th scope="row" className="basis-full pt-1 pr-2 text-xs font-normal text-slate-600 sm:table-cell sm:py-1 sm:text-sm sm:text-slate-700">
                  {FIELD_LABELS[f]}
                  {differing.has(f) && <span className="sr-only"> (différent)</span>}
                </th>
                {records.map((r, i) => (
                  <td key={i} className={`min-w-0 flex-1 basis-0 pr-2 pb-1 break-words sm:py-1 ${differing.has(f) ? "font-medium text-amber-900" : ""}`}>
                    {display(f, (r.fields || {})[f])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="mt-2 flex flex-wrap gap-2">
        {canMerge && <Button onClick={() => onMerge(group)}>Fusionner…</Button>}
        <Button variant="secondary" onClick={() => onDismiss(group)}>
          Ce ne sont pas des doublons
        </Button>
      </div>
    </li>
  );
}

export default function DuplicatesPanel({ refreshKey }) {
  const [groups, setGroups] = useState([]);
  const [total, setTotal] = useState(0);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState(null);
  const [info, setInfo] = useState(null);
  const [merging, setMerging] = useState(null);
  const [canMerge, setCanMerge] = useState(true);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    api
      .get(paths.duplicates, { query: { limit: PAGE, offset } })
      .then((res) => {
        const list = Array.isArray(res.data) ? res.data : [];
        setGroups(list);
        setTotal(res.pagination ? res.pagination.total : list.length);
        setError(null);
      })
      .catch(setError);
  }, [refreshKey, offset, reload]);

  const dismiss = async (group) => {
    try {
      const res = await api.post(paths.dismiss(group.id), {});
      setInfo(res.message || "C'est noté.");
      setReload((n) => n + 1);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <Card id="doublons" title={`Doublons${total ? ` (${total})` : ""}`}>
      <ErrorNotice error={error} />
      {info && (
        <Notice tone="success" className="mb-2">
          {info}
        </Notice>
      )}
      {!error && total === 0 && <p className="text-sm text-slate-600">Aucun doublon détecté.</p>}
      {groups.length > 0 && (
        <p className="mb-2 text-sm text-slate-700">
          Ces fiches semblent désigner la même personne. Les champs qui diffèrent sont surlignés : fusionnez-les, ou indiquez
          que ce ne sont pas des doublons.
        </p>
      )}
      <ul className="space-y-2">
        {groups.map((g) => (
          <DuplicateGroup key={g.id} group={g} canMerge={canMerge} onDismiss={dismiss} onMerge={setMerging} />
        ))}
      </ul>
      {total > PAGE && (
        <nav aria-label="Pagination des doublons" className="mt-3 flex flex-wrap items-center justify-between gap-2 text-sm">
          <p>
            Doublons {offset + 1} à {Math.min(offset + PAGE, total)} sur {total}
          </p>
          <div className="flex gap-2">
            <Button variant="secondary" disabled={offset === 0} onClick={() => setOffset((o) => Math.max(0, o - PAGE))}>
              Précédents
            </Button>
            <Button variant="secondary" disabled={offset + PAGE >= total} onClick={() => setOffset((o) => o + PAGE)}>
              Suivants
            </Button>
          </div>
        </nav>
      )}
      {merging && (
        <MergeDialog
          group={merging}
          onClose={() => setMerging(null)}
          onMerged={(text) => {
            setMerging(null);
            setInfo(text);
            setReload((n) => n + 1);
          }}
          onUnavailable={() => {
            setMerging(null);
            setCanMerge(false);
            setInfo("La fusion n'est pas encore disponible sur ce serveur : corrigez les fiches à la main, ou indiquez que ce ne sont pas des doublons.");
          }}
        />
      )}
    </Card>
  );
}
