import { z } from 'zod';
const d = (t: string) => ({ error: (iss: any) => `expected ${t}, got ${JSON.stringify(iss.input)} [${iss.code}]` });
const port = z.number(d('port')).int().min(1).max(65535);
for (const v of [0, 70000, '80a', 8.5, undefined]) {
  const r = port.safeParse(v); console.log(JSON.stringify(v), r.success ? 'ok' : r.error.issues.map(i => i.message + ' ' + JSON.stringify(i)));
}
const port2 = z.int(d('port2')).min(1).max(65535);
for (const v of [0, 8.5, 'x']) { const r = port2.safeParse(v); console.log(r.success ? 'ok' : r.error.issues.map(i => i.message)); }
const ex = z.strictObject({ port: port, type: z.enum(['web','api']).optional() });
const spread = z.strictObject({ __spread__: z.string().regex(/^%%/), chunked: z.boolean().optional() });
const el = z.union([port, ex, z.string().regex(/^%%.*%%$/), spread], d('ELEM'));
const top = z.strictObject({ expose: z.union([el, z.array(el)], d('EXPOSE')) });
const errMap = (iss: any) => `[map ${iss.code} inst=${iss.inst?.constructor?.name} path=${JSON.stringify(iss.path)}]`;
for (const v of [{expose: {port: 80, tpye: 'x'}}, {expose: [1, {port: 'x'}]}, {expose: true}, {expose: '8000-8010'}, {expose: [{__spread__: 5}]}, {expose:[{port:80, __spread__:'%%a%%'}]}]) {
  const r = top.safeParse(v, { error: errMap }); console.log(JSON.stringify(v)); console.dir(r.success ? 'ok' : r.error.issues, { depth: 10 });
}
