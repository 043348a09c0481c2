import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";

import { Button, ConfirmDialog, Field, Input, Meter, Switch, ToastProvider, useToast } from "@/components/ui";

describe("Field", () => {
  it("labels its control and points it at the hint and the error", () => {
    render(
      <Field label="Title" hint="Up to 200 characters" error="Enter a title.">
        {(control) => <Input {...control} />}
      </Field>,
    );
    const input = screen.getByLabelText("Title");
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(input).toHaveAccessibleDescription("Enter a title. Up to 200 characters");
  });

  it("is not invalid without an error", () => {
    render(<Field label="Title">{(control) => <Input {...control} />}</Field>);
    expect(screen.getByLabelText("Title")).not.toHaveAttribute("aria-invalid");
  });
});

describe("Button", () => {
  it("is disabled and busy while loading", async () => {
    const onClick = vi.fn();
    render(
      <Button isLoading onClick={onClick}>
        Save
      </Button>,
    );
    const button = screen.getByRole("button", { name: "Save" });
    expect(button).toBeDisabled();
    expect(button).toHaveAttribute("aria-busy", "true");
    await userEvent.click(button);
    expect(onClick).not.toHaveBeenCalled();
  });
});

function DialogHarness({ onConfirm }: { onConfirm: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>Open</Button>
      <ConfirmDialog
        open={open}
        title="Delete it?"
        description="This cannot be undone."
        confirmLabel="Delete"
        tone="danger"
        onConfirm={onConfirm}
        onClose={() => setOpen(false)}
      />
    </>
  );
}

describe("ConfirmDialog", () => {
  it("opens as a labelled dialog, confirms, and cancels", async () => {
    const onConfirm = vi.fn();
    render(<DialogHarness onConfirm={onConfirm} />);
    await userEvent.click(screen.getByRole("button", { name: "Open" }));
    const dialog = screen.getByRole("dialog", { name: "Delete it?" });
    expect(dialog).toHaveAccessibleDescription("This cannot be undone.");
    await userEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(onConfirm).toHaveBeenCalledOnce();
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });
});

function ToastHarness() {
  const toast = useToast();
  return <Button onClick={() => toast.show("Saved.")}>Save</Button>;
}

describe("Toast", () => {
  it("announces a message politely and can be dismissed", async () => {
    render(
      <ToastProvider>
        <ToastHarness />
      </ToastProvider>,
    );
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    const toast = screen.getByTestId("toast");
    expect(toast).toHaveTextContent("Saved.");
    expect(toast.parentElement).toHaveAttribute("aria-live", "polite");
    await userEvent.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByTestId("toast")).not.toBeInTheDocument();
  });
});

describe("Switch", () => {
  it("is a labelled, described switch that Space flips", async () => {
    const onChange = vi.fn();
    render(<Switch checked={false} onChange={onChange} label="Send the title" description="The AI reads each task's title." />);
    const control = screen.getByRole("switch", { name: "Send the title" });
    expect(control).toHaveAttribute("aria-checked", "false");
    expect(control).toHaveAccessibleDescription("The AI reads each task's title.");
    control.focus();
    await userEvent.keyboard(" ");
    expect(onChange).toHaveBeenCalledWith(true);
  });

  it("does nothing while disabled or saving", async () => {
    const onChange = vi.fn();
    render(<Switch checked onChange={onChange} label="Rate AI criteria" isLoading />);
    const control = screen.getByRole("switch", { name: "Rate AI criteria" });
    expect(control).toBeDisabled();
    expect(control).toHaveAttribute("aria-busy", "true");
    await userEvent.click(control);
    expect(onChange).not.toHaveBeenCalled();
  });
});

describe("Meter", () => {
  it("says its value in words and caps the bar at its maximum", () => {
    render(<Meter value={1200} max={1000} label="AI calls this month" valueText="1,200 of 1,000 used" tone="out" />);
    const meter = screen.getByRole("meter", { name: "AI calls this month" });
    expect(meter).toHaveAttribute("aria-valuenow", "1000");
    expect(meter).toHaveAttribute("aria-valuetext", "1,200 of 1,000 used");
    expect((meter.firstElementChild as HTMLElement).style.width).toBe("100%");
  });
});

describe("CopyButton", () => {
  it("copies and says so, or says to copy by hand when the browser refuses", async () => {
    const { CopyButton } = await import("@/components/ui");
    const writeText = vi.fn<(text: string) => Promise<void>>(async () => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const onFailure = vi.fn();
    const { unmount } = render(<CopyButton text="ts_abc" label="Copy the key" onFailure={onFailure} />);
    await userEvent.click(screen.getByRole("button", { name: "Copy the key" }));
    expect(writeText).toHaveBeenCalledWith("ts_abc");
    expect(screen.getByTestId("copy-status")).toHaveTextContent("Copied");
    unmount();

    writeText.mockRejectedValueOnce(new Error("denied"));
    render(<CopyButton text="ts_abc" onFailure={onFailure} />);
    await userEvent.click(screen.getByRole("button", { name: "Copy" }));
    expect(screen.getByTestId("copy-status")).toHaveTextContent("Could not copy: select it and copy it yourself.");
    expect(onFailure).toHaveBeenCalledTimes(1);
    vi.unstubAllGlobals();
  });
});
