import { cn } from "./cn";

export type MeterTone = "normal" | "low" | "out";

const TONES: Record<MeterTone, string> = {
  normal: "bg-indigo-600",
  low: "bg-amber-500",
  out: "bg-rose-600",
};

/**
 * How much of something is used (`role="meter"`), as a bar; `valueText` is what a screen reader
 * says (e.g. "312 of 1,000 AI calls used"), so write the figures out beside it too.
 */
export function Meter({
  value,
  max,
  label,
  valueText,
  tone = "normal",
  className,
}: {
  value: number;
  max: number;
  label: string;
  valueText: string;
  tone?: MeterTone;
  className?: string;
}) {
  const share = max > 0 ? Math.min(1, Math.max(0, value / max)) : 1;
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={Math.min(value, max)}
      aria-valuetext={valueText}
      className={cn("h-2.5 w-full overflow-hidden rounded-full bg-slate-200", className)}
    >
      <div className={cn("h-full rounded-full", TONES[tone])} style={{ width: `${share * 100}%` }} />
    </div>
  );
}
