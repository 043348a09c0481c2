import { useMemo } from "react";
import { encode } from "uqr";

/**
 * The authenticator app's `otpauth://` address as a QR code, drawn here as SVG (nothing is
 * fetched: the secret never leaves the page). One path of unit squares, crisp at any size.
 */
export function TotpQrCode({ url, label, className }: { url: string; label: string; className?: string }) {
  const { size, path } = useMemo(() => {
    const qr = encode(url, { ecc: "M", border: 2 });
    let d = "";
    qr.data.forEach((row, y) =>
      row.forEach((isDark, x) => {
        if (isDark) d += `M${x} ${y}h1v1h-1z`;
      }),
    );
    return { size: qr.size, path: d };
  }, [url]);
  return (
    <svg
      role="img"
      aria-label={label}
      viewBox={`0 0 ${size} ${size}`}
      shapeRendering="crispEdges"
      className={className}
      data-testid="totp-qr-code"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#0f172a" />
    </svg>
  );
}
