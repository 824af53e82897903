// Sync settings: conflict policy, deletion propagation, import scope, auto-sync interval.
import { useEffect, useId, useState } from "react";
import { api, paths } from "../lib/api.js";
import { classifyError } from "../lib/errors.js";
import { Button, Card, ErrorNotice, Notice } from "./ui.jsx";
import { conflictPolicyValues, deletionSettingValues, importScopeValues } from "../generated/api.ts";

// The values come from the API's OpenAPI document (generated: src/generated/api.ts); only
// their French labels are written here.
export const POLICY_LABELS = {
  newest: "Garder la plus récente des deux",
  atarys: "ATARYS a toujours raison",
  google: "Google a toujours raison",
  manual: "Me demander (réglage manuel)",
};
export const GOOGLE_DELETION_LABELS = {
  propagate: "Supprimer aussi le client dans ATARYS",
  unlink: "Garder le client, ne plus le lier",
};
export const ATARYS_DELETION_LABELS = {
  propagate: "Supprimer aussi le contact Google",
  unlink: "Garder le contact, ne plus le lier",
};
export const IMPORT_SCOPE_LABELS = {
  all: "Tous les contacts Google",
  group: "Seulement le libellé « ATARYS »",
};

const labelled = (values, labels) => values.map((value) => [value, labels[value] || value]);

const ENUMS = {
  conflict_policy: {
    label: "En cas de conflit",
    options: labelled(conflictPolicyValues, POLICY_LABELS),
  },
  google_deletions: {
    label: "Contact supprimé dans Google",
    options: labelled(deletionSettingValues, GOOGLE_DELETION_LABELS),
  },
  atarys_deletions: {
    label: "Client supprimé dans ATARYS",
    options: labelled(deletionSettingValues, ATARYS_DELETION_LABELS),
  },
  import_scope: {
    label: "Contacts Google à importer",
    options: labelled(importScopeValues, IMPORT_SCOPE_LABELS),
  },
  deletion_propagation: {
    label: "Suppressions",
    options: [
      ["both", "Reporter dans les deux sens"],
      ["none", "Ne jamais reporter"],
      ["atarys_to_google", "ATARYS → Google seulement"],
      ["google_to_atarys", "Google → ATARYS seulement"],
    ],
  },
};

const LABELS = {
  propagate_deletions: "Reporter les suppressions d'un côté à l'autre",
  delete_propagation: "Reporter les suppressions d'un côté à l'autre",
  deletion_propagation: "Suppressions",
  import_scope: "Contacts Google à importer : tous, ou seulement ceux d'un libellé",
  import_group: "Groupe (libellé Google) à importer",
  group: "Groupe (libellé Google) à importer",
  auto_sync_minutes: "Synchronisation automatique, en minutes",
  poll_minutes: "Vérifier les modifications Google toutes les (minutes)",
  phone_region: "Pays des numéros écrits sans indicatif",
  mass_deletion_threshold: "Seuil de sécurité contre les suppressions massives",
  breaker_ratio: "Sécurité : part maximale de contacts supprimés d'un coup (0,2 = 20 %)",
  breaker_min: "Sécurité : nombre de suppressions toujours permis",
};

const HINTS = {
  auto_sync_minutes: "Toutes les combien de minutes ATARYS et Google Contacts se synchronisent seuls ; 0 : seulement à la main.",
  phone_region: "Un numéro écrit 06 12 34 56 78, sans +33, est lu comme un numéro de ce pays.",
};

// The countries offered for phone numbers written without their calling code (ISO codes, as the API takes them).
export const PHONE_REGIONS = [
  ["FR", "France"],
  ["BE", "Belgique"],
  ["CH", "Suisse"],
  ["LU", "Luxembourg"],
  ["DE", "Allemagne"],
  ["ES", "Espagne"],
  ["IT", "Italie"],
  ["GB", "Royaume-Uni"],
];

// What PUT /settings accepts, in the order shown; the rest is shown read-only.
const EDITABLE = ["conflict_policy", "google_deletions", "atarys_deletions", "import_scope", "auto_sync_minutes", "phone_region"];

/** "All contacts" or "only the contacts of one group (label)". */
function ImportScopeControl({ value, onChange, error }) {
  const id = useId();
  const all = !value || value === "all";
  const [group, setGroup] = useState(all ? "" : value);
  return (
    <fieldset aria-describedby={error ? `${id}-err` : undefined}>
      <legend className="block text-sm font-medium">Contacts Google à importer</legend>
      <label className="mt-1 flex items-center gap-2 text-sm">
        <input type="radio" name={`${id}-scope`} checked={all} onChange={() => onChange("all")} />
        Tous les contacts
      </label>
      <div className="mt-1 flex flex-wrap items-center gap-2 text-sm">
        <label className="flex items-center gap-2">
          <input type="radio" name={`${id}-scope`} checked={!all} onChange={() => onChange(group || "ATARYS")} />
          Seulement le groupe
        </label>
        <label htmlFor={`${id}-group`} className="sr-only">
          Nom du groupe Google à importer
        </label>
        <input
          id={`${id}-group`}
          type="text"
          value={all ? group : value}
          placeholder="ex. Clients"
          onChange={(e) => {
            setGroup(e.target.value);
            onChange(e.target.value || "all");
          }}
          className="min-w-0 flex-1 rounded-md border border-slate-300 px-2 py-1"
        />
      </div>
      {error && <p id={`${id}-err`} className="mt-1 text-sm text-red-700">{error}</p>}
    </fieldset>
  );
}

function SettingControl({ name, value, onChange, error }) {
  const id = useId();
  const errorId = `${id}-err`;
  if (name === "import_scope" && value && !importScopeValues.includes(value)) {
    return <ImportScopeControl value={value} onChange={onChange} error={error} />;
  }
  const hintId = `${id}-hint`;
  const describedBy = [error ? errorId : null, HINTS[name] ? hintId : null].filter(Boolean).join(" ") || undefined;
  const common = { id, name, "aria-invalid": error ? "true" : undefined, "aria-describedby": describedBy };
  let control;
  if (typeof value === "boolean") {
    return (
      <div>
        <label className="flex items-center gap-2 text-sm font-medium">
          <input type="checkbox" {...common} checked={value} onChange={(e) => onChange(e.target.checked)} />
          {LABELS[name] || name}
        </label>
        {error && <p id={errorId} className="mt-1 text-sm text-red-700">{error}</p>}
      </div>
    );
  }
  if (ENUMS[name]) {
    const known = ENUMS[name].options.some(([v]) => v === value);
    control = (
      <select {...common} value={value ?? ""} onChange={(e) => onChange(e.target.value)} className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
        {!known && <option value={value ?? ""}>{String(value ?? "")}</option>}
        {ENUMS[name].options.map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    );
  } else if (name === "phone_region") {
    const known = PHONE_REGIONS.some(([code]) => code === String(value || "").toUpperCase());
    control = (
      <select {...common} value={String(value || "").toUpperCase()} onChange={(e) => onChange(e.target.value)} className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
        {!known && <option value={String(value || "").toUpperCase()}>{value ? `Pays ${String(value).toUpperCase()}` : "Choisissez un pays"}</option>}
        {PHONE_REGIONS.map(([code, label]) => (
          <option key={code} value={code}>
            {label}
          </option>
        ))}
      </select>
    );
  } else if (typeof value === "number") {
    control = <input type="number" min="0" {...common} value={value} onChange={(e) => onChange(e.target.value === "" ? 0 : Number(e.target.value))} className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm sm:w-40" />;
  } else {
    control = <input type="text" {...common} value={value ?? ""} onChange={(e) => onChange(e.target.value === "" ? null : e.target.value)} className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm" />;
  }
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium">
        {(ENUMS[name] && ENUMS[name].label) || LABELS[name] || name}
      </label>
      {control}
      {HINTS[name] && (
        <p id={hintId} className="mt-1 text-xs text-slate-600">
          {HINTS[name]}
        </p>
      )}
      {error && <p id={errorId} className="mt-1 text-sm text-red-700">{error}</p>}
    </div>
  );
}

export default function SettingsPanel({ connected = true }) {
  const [settings, setSettings] = useState(null);
  const [error, setError] = useState(null);
  const [errors, setErrors] = useState({});
  const [saved, setSaved] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setError(null);
    if (connected !== true) {
      // Unknown yet (null) or not connected: there is no account to read settings from.
      setSettings(null);
      return;
    }
    api
      .get(paths.settings)
      .then((res) => setSettings(res.data || {}))
      .catch((err) => {
        setSettings(null);
        setError(err);
      });
  }, [connected]);

  const notConnected = connected === false || (error && classifyError(error) === "not_connected");

  const save = async (event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    setSaved(null);
    const body = Object.fromEntries(Object.entries(settings).filter(([k]) => EDITABLE.includes(k)));
    try {
      const res = await api.put(paths.settings, body);
      if (res.data && typeof res.data === "object") setSettings(res.data);
      setSaved("Réglages enregistrés.");
    } catch (err) {
      if (err.errors) setErrors(err.errors);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card id="reglages" title="Réglages de la synchronisation">
      {notConnected ? (
        <p className="text-sm text-slate-600">Les réglages seront disponibles une fois Google connecté.</p>
      ) : (
        <ErrorNotice error={error} />
      )}
      {settings && (
        <form onSubmit={save} className="space-y-4" aria-label="Réglages de la synchronisation">
          <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
            {EDITABLE.filter((k) => k in settings).map((name) => (
              <SettingControl key={name} name={name} value={settings[name]} error={errors[name]} onChange={(v) => setSettings((s) => ({ ...s, [name]: v }))} />
            ))}
          </div>
          {(settings.breaker_ratio !== undefined || settings.breaker_min !== undefined) && (
            <p className="text-sm text-slate-600">
              Sécurité : une synchronisation qui supprimerait plus de{" "}
              {settings.breaker_ratio !== undefined && `${Math.round(Number(settings.breaker_ratio) * 100)} % des contacts`}
              {settings.breaker_min !== undefined && ` (et plus de ${settings.breaker_min} contacts)`} est bloquée et demande une
              confirmation.
            </p>
          )}
          {saved && <Notice tone="success">{saved}</Notice>}
          <div className="flex justify-end">
            <Button type="submit" disabled={busy}>
              {busy ? "Enregistrement…" : "Enregistrer les réglages"}
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}
