// The project describes its programs as Anchor IDLs in the current format (spec 0.1.0), but the
// IDL accounts on devnet and mainnet hold the legacy format written by Anchor before 0.30 — the one
// Anchor 0.28/0.29 clients (Nosana's SDK among them) read. This converts the first into the second
// so the localnet can publish what those clients expect.
//
// The legacy format differs in its words, not its meaning: `isMut`/`isSigner` instead of
// `writable`/`signer`, `publicKey` instead of `pubkey`, a defined type named by a plain string,
// account layouts written inline under `accounts` (no discriminators: clients hash the name), and
// the program address under `metadata.address`. Features the project's IDLs do not use and the
// legacy format cannot say (generics, type aliases, tuple structs, events) are refused by name.
import type { Idl } from '@coral-xyz/anchor';

// The package exports only `Idl`; its parts are named here from it.
type IdlInstruction = Idl['instructions'][number];
type IdlInstructionAccountItem = IdlInstruction['accounts'][number];
type IdlField = IdlInstruction['args'][number];
type IdlType = IdlField['type'];
type IdlTypeDefTy = NonNullable<Idl['types']>[number]['type'];
type IdlDefinedFields = NonNullable<Extract<IdlTypeDefTy, { kind: 'struct' }>['fields']>;

export type LegacyIdlType =
  | 'bool'
  | 'u8'
  | 'i8'
  | 'u16'
  | 'i16'
  | 'u32'
  | 'i32'
  | 'f32'
  | 'u64'
  | 'i64'
  | 'f64'
  | 'u128'
  | 'i128'
  | 'u256'
  | 'i256'
  | 'bytes'
  | 'string'
  | 'publicKey'
  | { option: LegacyIdlType }
  | { coption: LegacyIdlType }
  | { vec: LegacyIdlType }
  | { array: [LegacyIdlType, number] }
  | { defined: string };

export interface LegacyIdlField {
  name: string;
  docs?: string[];
  type: LegacyIdlType;
}

export interface LegacyIdlAccount {
  name: string;
  docs?: string[];
  isMut: boolean;
  isSigner: boolean;
  isOptional?: boolean;
}

export interface LegacyIdlAccounts {
  name: string;
  accounts: LegacyIdlAccountItem[];
}

export type LegacyIdlAccountItem = LegacyIdlAccount | LegacyIdlAccounts;

export interface LegacyIdlInstruction {
  name: string;
  docs?: string[];
  accounts: LegacyIdlAccountItem[];
  args: LegacyIdlField[];
}

export type LegacyIdlTypeDefTy =
  | { kind: 'struct'; fields: LegacyIdlField[] }
  | { kind: 'enum'; variants: { name: string; fields?: LegacyIdlField[] | LegacyIdlType[] }[] };

export interface LegacyIdlTypeDef {
  name: string;
  docs?: string[];
  type: LegacyIdlTypeDefTy;
}

export interface LegacyIdlErrorCode {
  code: number;
  name: string;
  msg?: string;
}

export interface LegacyIdl {
  version: string;
  name: string;
  docs?: string[];
  instructions: LegacyIdlInstruction[];
  accounts: LegacyIdlTypeDef[];
  types: LegacyIdlTypeDef[];
  errors: LegacyIdlErrorCode[];
  metadata: { address: string };
}

/** Thrown for an IDL feature the legacy format has no words for. */
export class LegacyIdlConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LegacyIdlConversionError';
  }
}

// Spread only when present, so optional fields stay absent (exactOptionalPropertyTypes) and the
// JSON carries no `docs: undefined`.
function docsOf(item: { docs?: string[] }): { docs?: string[] } {
  return item.docs === undefined ? {} : { docs: [...item.docs] };
}

function toLegacyType(type: IdlType, where: string): LegacyIdlType {
  if (typeof type === 'string') return type === 'pubkey' ? 'publicKey' : type;
  if ('option' in type) return { option: toLegacyType(type.option, where) };
  if ('coption' in type) return { coption: toLegacyType(type.coption, where) };
  if ('vec' in type) return { vec: toLegacyType(type.vec, where) };
  if ('array' in type) {
    const [inner, length] = type.array;
    if (typeof length !== 'number') throw new LegacyIdlConversionError(`${where}: an array of generic length has no legacy form`);
    return { array: [toLegacyType(inner, where), length] };
  }
  if ('defined' in type) {
    if (type.defined.generics !== undefined && type.defined.generics.length > 0) {
      throw new LegacyIdlConversionError(`${where}: generic type ${type.defined.name} has no legacy form`);
    }
    return { defined: type.defined.name };
  }
  throw new LegacyIdlConversionError(`${where}: generic parameter ${type.generic} has no legacy form`);
}

function toLegacyField(field: IdlField, where: string): LegacyIdlField {
  return { name: field.name, ...docsOf(field), type: toLegacyType(field.type, `${where}.${field.name}`) };
}

function isNamedFields(fields: IdlDefinedFields): fields is IdlField[] {
  return fields.every((field) => typeof field === 'object' && 'name' in field);
}

function toLegacyTypeDefTy(type: IdlTypeDefTy, where: string): LegacyIdlTypeDefTy {
  if (type.kind === 'struct') {
    const fields = type.fields ?? [];
    if (!isNamedFields(fields)) throw new LegacyIdlConversionError(`${where}: a tuple struct has no legacy form`);
    return { kind: 'struct', fields: fields.map((field) => toLegacyField(field, where)) };
  }
  if (type.kind === 'enum') {
    return {
      kind: 'enum',
      variants: type.variants.map((variant) => {
        const at = `${where}::${variant.name}`;
        if (variant.fields === undefined) return { name: variant.name };
        const fields = variant.fields;
        return {
          name: variant.name,
          fields: isNamedFields(fields)
            ? fields.map((field) => toLegacyField(field, at))
            : (fields as IdlType[]).map((field, index) => toLegacyType(field, `${at}.${index}`)),
        };
      }),
    };
  }
  throw new LegacyIdlConversionError(`${where}: a type alias has no legacy form`);
}

function toLegacyAccountItem(item: IdlInstructionAccountItem): LegacyIdlAccountItem {
  if ('accounts' in item) return { name: item.name, accounts: item.accounts.map(toLegacyAccountItem) };
  return {
    name: item.name,
    ...docsOf(item),
    isMut: item.writable ?? false,
    isSigner: item.signer ?? false,
    ...(item.optional === true ? { isOptional: true } : {}),
  };
}

/**
 * The legacy form of `idl`. Instruction and account names are kept as written (the project
 * writes them in camelCase, as Anchor's legacy IDLs do); the discriminators are dropped because
 * legacy clients derive them from those names.
 */
export function toLegacyIdl(idl: Idl): LegacyIdl {
  if (idl.events !== undefined && idl.events.length > 0) {
    throw new LegacyIdlConversionError(`${idl.metadata.name}: events are not converted (the Nosana programs' IDLs declare none)`);
  }
  const typeDefs = idl.types ?? [];
  for (const typeDef of typeDefs) {
    if (typeDef.generics !== undefined && typeDef.generics.length > 0) {
      throw new LegacyIdlConversionError(`${typeDef.name}: a generic type has no legacy form`);
    }
  }
  const accountNames = new Set((idl.accounts ?? []).map((account) => account.name));
  const accounts = (idl.accounts ?? []).map((account) => {
    const typeDef = typeDefs.find((candidate) => candidate.name === account.name);
    if (typeDef === undefined) throw new LegacyIdlConversionError(`account ${account.name} has no type definition`);
    return { name: account.name, ...docsOf(typeDef), type: toLegacyTypeDefTy(typeDef.type, account.name) };
  });
  return {
    version: idl.metadata.version,
    name: idl.metadata.name,
    ...docsOf(idl),
    instructions: idl.instructions.map((instruction) => ({
      name: instruction.name,
      ...docsOf(instruction),
      accounts: instruction.accounts.map(toLegacyAccountItem),
      args: instruction.args.map((arg) => toLegacyField(arg, instruction.name)),
    })),
    accounts,
    types: typeDefs
      .filter((typeDef) => !accountNames.has(typeDef.name))
      .map((typeDef) => ({ name: typeDef.name, ...docsOf(typeDef), type: toLegacyTypeDefTy(typeDef.type, typeDef.name) })),
    errors: (idl.errors ?? []).map((error) => ({
      code: error.code,
      name: error.name,
      ...(error.msg === undefined ? {} : { msg: error.msg }),
    })),
    metadata: { address: idl.address },
  };
}
