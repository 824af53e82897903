// Small shared building blocks: buttons, notices, form fields, dialogs, badges.
import { useEffect, useId, useRef } from "react";
import { explainError } from "../lib/errors.js";

const BUTTON = {
  primary: "bg-blue-700 text-white hover:bg-blue-800 disabled:bg-blue-300",
  secondary: "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100 disabled:text-slate-400",
  danger: "bg-red-700 text-white hover:bg-red-800 disabled:bg-red-300",
  ghost: "text-blue-800 hover:bg-blue-50 disabled:text-slate-400",
  ghostDanger: "text-red-700 hover:bg-red-50 disabled:text-slate-400",
};

const SIZES = {
  md: "px-3 py-2",
  // Row actions: tighter on a phone.
  sm: "px-2 py-1 sm:px-3 sm:py-2",
};

export function Button({ variant = "primary", size = "md", className = "", type = "button", ...rest }) {
  return (
    <button
      type={type}
      className={`inline-flex items-center justify-center gap-2 rounded-md text-sm font-medium disabled:cursor-not-allowed ${SIZES[size]} ${BUTTON[variant]} ${className}`}
      {...rest}
    />
  );
}

const TONES = {
  info: "border-blue-200 bg-blue-50 text-blue-900",
  success: "border-green-200 bg-green-50 text-green-900",
  warning: "border-amber-300 bg-amber-50 text-amber-900",
  error: "border-red-200 bg-red-50 text-red-900",
};

export function Notice({ tone = "info", title, children, className = "", ...rest }) {
  const role = tone === "error" ? "alert" : "status";
  return (
    <div role={role} className={`rounded-md border p-3 text-sm ${TONES[tone]} ${className}`} {...rest}>
      {title && <p className="font-semibold">{title}</p>}
      {children && <div className={title ? "mt-1" : ""}>{children}</div>}
    </div>
  );
}

/** An error explained to a person: what happened, what to do; optional extra actions. */
export function ErrorNotice({ error, children, ...rest }) {
  if (!error) return null;
  const info = explainError(error);
  return (
    <Notice tone={info.kind === "breaker" || info.kind === "quota" ? "warning" : "error"} title={info.title} data-error-kind={info.kind} {...rest}>
      <p>{info.detail}</p>
      <p className="mt-1 font-medium">{info.action}</p>
      {children && <div className="mt-2 flex flex-wrap gap-2">{children}</div>}
    </Notice>
  );
}

export function Field({ label, name, error, type = "text", value, onChange, required, autoComplete, inputRef, hint, ...rest }) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div>
      <div className="text-sm font-medium text-slate-800">
        <label htmlFor={id}>{label}</label>
        {required && (
          <span aria-hidden="true" className="text-red-700">
            {" "}
            *
          </span>
        )}
      </div>
      <input
        id={id}
        name={name}
        type={type}
        ref={inputRef}
        value={value ?? ""}
        onChange={(e) => onChange(e.target.value)}
        required={required}
        autoComplete={autoComplete}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy}
        className={`mt-1 block w-full rounded-md border px-3 py-2 text-sm ${error ? "border-red-600" : "border-slate-300"}`}
        {...rest}
      />
      {hint && (
        <p id={hintId} className="mt-1 text-xs text-slate-600">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="mt-1 text-sm text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

/** A modal dialog: focus moves in, Escape closes, focus returns to the opener. */
export function Dialog({ title, onClose, children, footer, labelledBy }) {
  const ref = useRef(null);
  const titleId = useId();
  useEffect(() => {
    const opener = document.activeElement;
    const node = ref.current;
    const first = node && node.querySelector("input, select, textarea, button:not([data-close])");
    (first || node)?.focus();
    const onKey = (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        onClose();
      }
      if (event.key === "Tab" && node) {
        const focusables = node.querySelectorAll(
          "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled])",
        );
        if (!focusables.length) return;
        const firstEl = focusables[0];
        const lastEl = focusables[focusables.length - 1];
        if (event.shiftKey && document.activeElement === firstEl) {
          event.preventDefault();
          lastEl.focus();
        } else if (!event.shiftKey && document.activeElement === lastEl) {
          event.preventDefault();
          firstEl.focus();
        }
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      if (opener && opener.focus) opener.focus();
    };
  }, [onClose]);
  return (
    <div className="fixed inset-0 z-40 flex items-end justify-center bg-slate-900/40 p-0 sm:items-center sm:p-4">
      <div
        ref={ref}
        role="dialog"
        aria-modal="true"
        aria-labelledby={labelledBy || titleId}
        tabIndex={-1}
        className="max-h-[95vh] w-full overflow-y-auto rounded-t-lg bg-white p-4 shadow-xl sm:max-w-2xl sm:rounded-lg sm:p-6"
      >
        <div className="flex items-start justify-between gap-4">
          <h2 id={titleId} className="text-lg font-semibold">
            {title}
          </h2>
          <button
            type="button"
            data-close
            onClick={onClose}
            className="rounded p-1 text-slate-500 hover:bg-slate-100"
            aria-label="Fermer"
          >
            ✕
          </button>
        </div>
        <div className="mt-4">{children}</div>
        {footer && <DialogActions className="mt-6">{footer}</DialogActions>}
      </div>
    </div>
  );
}

/** A dialog's buttons: they stay in sight at the bottom of a long dialog (a form on a phone). */
export function DialogActions({ children, className = "" }) {
  return (
    <div className={`sticky -bottom-4 -mx-4 flex flex-wrap justify-end gap-2 border-t border-slate-100 bg-white px-4 py-3 sm:-bottom-6 sm:-mx-6 sm:px-6 ${className}`}>
      {children}
    </div>
  );
}

/** An e-mail address that wraps after its « @ » on a narrow screen, not mid-word. */
export function Email({ value }) {
  if (!value) return null;
  const parts = String(value).split(/(?<=@)/);
  return (
    <>
      {parts.map((part, i) => (
        <span key={i}>
          {i > 0 && <wbr />}
          {part}
        </span>
      ))}
    </>
  );
}

/** Ask before doing something that cannot be undone; no window.confirm(). */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onCancel, danger = true, busy = false }) {
  return (
    <Dialog
      title={title}
      onClose={onCancel}
      footer={
        <>
          <Button variant="secondary" onClick={onCancel}>
            Annuler
          </Button>
          <Button variant={danger ? "danger" : "primary"} onClick={onConfirm} disabled={busy}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="text-sm text-slate-700">{children}</div>
    </Dialog>
  );
}

export function Card({ title, children, actions, id, className = "" }) {
  const headingId = id ? `${id}-titre` : undefined;
  return (
    <section aria-labelledby={headingId} id={id} className={`rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-5 ${className}`}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id={headingId} className="text-lg font-semibold">
          {title}
        </h2>
        {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
      </div>
      <div className="mt-3">{children}</div>
    </section>
  );
}

const BADGE_TONES = {
  green: "bg-green-100 text-green-900",
  amber: "bg-amber-100 text-amber-900",
  red: "bg-red-100 text-red-900",
  blue: "bg-blue-100 text-blue-900",
  slate: "bg-slate-100 text-slate-700",
  purple: "bg-purple-100 text-purple-900",
};

export function Badge({ tone = "slate", children, ...rest }) {
  return (
    <span className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ${BADGE_TONES[tone]}`} {...rest}>
      {children}
    </span>
  );
}

export function ProgressBar({ done, total, label }) {
  const known = Number.isFinite(total) && total > 0;
  const percent = known ? Math.min(100, Math.round((done / total) * 100)) : null;
  return (
    <div>
      <div className="flex justify-between text-sm text-slate-700">
        <span>{label}</span>
        <span>{known ? `${done} / ${total} (${percent} %)` : "Préparation…"}</span>
      </div>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={known ? total : undefined}
        aria-valuenow={known ? done : undefined}
        aria-valuetext={known ? `${done} sur ${total}` : "en préparation"}
        className="mt-1 h-3 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div
          className={`h-full rounded-full bg-blue-600 transition-all ${known ? "" : "animate-pulse"}`}
          style={{ width: `${known ? percent : 30}%` }}
        />
      </div>
    </div>
  );
}
