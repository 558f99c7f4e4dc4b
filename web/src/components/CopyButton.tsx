import { useState } from 'react';
import { Button } from './ui';

/** Copies `text`; says so (or that the browser would not) in a live region. */
export function CopyButton({ text, label, testId }: { text: string; label: string; testId: string }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setSaid('Copied.');
    } catch {
      setSaid('This browser would not copy; select the text and copy it instead.');
    }
  };
  return (
    <div className="flex items-center gap-2">
      <Button size="sm" variant="secondary" onClick={() => void copy()} data-testid={testId}>
        {label}
      </Button>
      <span className="text-xs text-slate-600" aria-live="polite" data-testid={`${testId}-status`}>
        {said}
      </span>
    </div>
  );
}
