// "Corbeille": the Google contacts the sync deleted in the last 30 days, each restorable whole.
import { useEffect, useState } from "react";
import { api, paths } from "../lib/api.js";
import { formatDate } from "../lib/format.js";
import { Button, Card, ErrorNotice, Notice } from "./ui.jsx";

export default function TrashPanel({ refreshKey, connected = true, onChanged }) {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const [message, setMessage] = useState(null);
  const [rowError, setRowError] = useState(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    if (!connected) {
      setRows(null);
      return;
    }
    api
      .get(paths.trash)
      .then((res) => {
        setRows(Array.isArray(res.data) ? res.data : []);
        setError(null);
      })
      .catch(setError);
  }, [refreshKey, connected, reload]);

  const restore = async (row) => {
    setBusy(row.id);
    setRowError(null);
    setMessage(null);
    try {
      await api.post(paths.restoreContact(row.id), {});
      setMessage(`${row.name || "Le contact"} est de retour dans Google Contacts, avec toutes ses informations.`);
      setReload((n) => n + 1);
      if (onChanged) onChanged();
    } catch (err) {
      setRowError({ name: row.name, error: err });
    } finally {
      setBusy(null);
    }
  };

  return (
    <Card id="corbeille" title="Corbeille des contacts Google">
      <p className="text-sm text-slate-600">
        Les contacts Google supprimés par la synchronisation ces 30 derniers jours. « Restaurer » les remet dans Google
        Contacts tels qu'ils étaient (anniversaire, notes et autres e-mails compris).
      </p>
      {!connected && <p className="mt-2 text-sm text-slate-600">Connectez Google pour voir la corbeille.</p>}
      <ErrorNotice error={error} className="mt-2">
        <Button variant="secondary" onClick={() => setReload((n) => n + 1)}>
          Réessayer
        </Button>
      </ErrorNotice>
      {message && (
        <Notice tone="success" className="mt-2">
          {message}
        </Notice>
      )}
      {rowError && (
        <div className="mt-2">
          <p className="text-sm font-medium">Restauration de {rowError.name} impossible :</p>
          <ErrorNotice error={rowError.error} />
        </div>
      )}
      {rows && rows.length === 0 && <p className="mt-2 text-sm text-slate-600">La corbeille est vide.</p>}
      {rows && rows.length > 0 && (
        <ul className="mt-2 divide-y divide-slate-100" data-testid="google-trash">
          {rows.map((row) => (
            <li key={row.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
              <span>
                <span className="font-medium">{row.name || "Contact sans nom"}</span>
                <span className="block text-xs text-slate-600">Supprimé le {formatDate(row.deleted_at)}</span>
              </span>
              <Button variant="secondary" size="sm" onClick={() => restore(row)} disabled={busy === row.id} aria-label={`Restaurer ${row.name || "ce contact"}`}>
                {busy === row.id ? "Restauration…" : "Restaurer"}
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
