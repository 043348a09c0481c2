import type { Metadata, Viewport } from "next";
import localFont from "next/font/local";
import { connection } from "next/server";
import type { ReactNode } from "react";

import { Providers } from "./providers";
import "./globals.css";

// Served from the npm package at build time: nothing is downloaded when the app runs.
const inter = localFont({
  src: "../../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2",
  variable: "--font-inter",
  weight: "100 900",
  display: "swap",
});

export const metadata: Metadata = {
  title: { default: "Taskscore", template: "%s · Taskscore" },
  description: "Submit tasks and see how they score.",
};

export const viewport: Viewport = {
  themeColor: "#4f46e5",
};

export default async function RootLayout({ children }: Readonly<{ children: ReactNode }>) {
  // Every page is rendered per request: its scripts carry the nonce of that request's
  // Content-Security-Policy (src/proxy.ts), which a page built ahead of time could not know.
  await connection();
  return (
    <html lang="en" className={inter.variable}>
      <body className="min-h-dvh font-sans">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
