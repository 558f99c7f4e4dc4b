import { describe, expect, it } from 'vitest';
import { recoveryCodesText } from './mfa';
import { groupSecret } from '../pages/SecurityPage';

describe('two-factor helpers', () => {
  it('groups a base32 key by four for reading and typing', () => {
    expect(groupSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(groupSecret('ABCDE')).toBe('ABCD E');
  });

  it('writes the recovery codes one a line under a heading naming the account', () => {
    const text = recoveryCodesText(['AAAA-BBBB-CCCC-DDDD', 'EEEE-FFFF-GGGG-HHHH'], 'ada@example.com');
    const lines = text.split('\n');
    expect(lines[0]).toBe('Tradesage recovery codes for ada@example.com');
    expect(lines).toContain('AAAA-BBBB-CCCC-DDDD');
    expect(lines).toContain('EEEE-FFFF-GGGG-HHHH');
  });
});
