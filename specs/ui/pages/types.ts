import type { Locator, Page } from '@playwright/test';
import type { TargetDescriptor } from '../../../provision/targets/descriptor.ts';
import type { PermissionsUi as UiFacts } from '../../../provision/plugin/adapter.ts';

/**
 * What a user does in the permissions UI, as page objects: one implementation per UI family (angular-5.ts,
 * react-6-7.ts, react-8-11.ts), chosen through the plugin adapter (pages/index.ts). Specs call these and never
 * branch on versions; each method finds its page the way a user would (navigation, search, row menus).
 */

export type Level = 'READ' | 'EDIT' | 'MANAGE' | 'NO_PERMISSIONS';
export type ResourceKind = 'experiment' | 'model' | 'prompt';
/** An experiment by id and name, a registered model or prompt by name (id = name). */
export interface ResourceRef {
  kind: ResourceKind;
  id: string;
  name: string;
}
export type Grantee = { user: string } | { group: string };
export const granteeName = (g: Grantee) => ('user' in g ? g.user : g.group);

export interface SignedIn {
  email: string;
  admin: boolean;
}

/** "Create access key": the dialog that mints a user's access token. */
export interface AccessKeyDialog {
  /** Opens it from the page a logged-in user lands on; returns the label of the control that opened it. */
  open(): Promise<string>;
  /**
   * Enters days after the limit (one year ahead). Resolves with how the UI refused them and whether the first day past
   * the limit was still issued a key (the UI lets it through and the server accepts it); fails when a day further
   * ahead is issued a key.
   */
  refuseTooLate(): Promise<{ evidence: string; dayPastLimit: 'refused' | 'issued' }>;
  /** Chooses the latest day the dialog accepts; returns it (YYYY-MM-DD, as the browser counts days). */
  chooseLatest(): Promise<string>;
  /** Requests the key: resolves with the token the dialog shows and the expiry (epoch ms) the UI asked the server for. */
  request(): Promise<{ token: string; expiresAt: number }>;
  /** Closes the dialog, opens it again (and after a reload): no key is shown any more. */
  expectShownOnce(): Promise<void>;
  /** The fields that show a secret (masked in screenshots). */
  secrets(): Locator[];
  /** What changes from run to run: fields showing a day, generated names (masked in screenshots). */
  volatile(): Locator[];
}

/** A resource's permissions as the admin manages them (experiment, registered model or prompt). */
export interface ResourcePermissions {
  /** Opens the resource's permissions from the UI's list of such resources. */
  open(): Promise<void>;
  /** The permission level the UI shows for a user or group on the resource (a cell to assert on). */
  levelOf(grantee: Grantee): Locator;
  /** The row of a user or group (count 0 when the UI lists no explicit permission). */
  rowOf(grantee: Grantee): Locator;
  grant(grantee: Grantee, level: Level): Promise<void>;
  change(grantee: Grantee, level: Level): Promise<void>;
  /** Removes the explicit permission (back to the fallback). */
  remove(grantee: Grantee): Promise<void>;
}

/** A user's own page: the user's effective permission on each resource of a kind, and its source. */
export interface UserPermissions {
  open(): Promise<void>;
  /** The level and its source ("user", "group", "fallback", …) the page shows for a resource. */
  effective(resource: ResourceRef): { level: Locator; source: Locator };
  /** Sets the user's own permission on the resource from this page. */
  set(resource: ResourceRef, level: Level): Promise<void>;
}

/** The group management the UI offers. */
export interface Groups {
  /** Opens the list of groups; resolves with the names it shows. */
  list(): Promise<string[]>;
  /** Opens a group's page; resolves with the tabs (resource kinds) it offers. */
  open(group: string): Promise<string[]>;
  /** Whether the group's page offers member editing (adding or removing users). */
  membershipControls(): Locator;
  /** The control that creates a group (count 0 where the UI cannot). */
  createControl(): Locator;
  /** Creates a group from the list page (only where `createControl` exists). */
  create(name: string): Promise<void>;
}

export interface PermissionsUiPages {
  readonly facts: UiFacts;
  /** Opens the UI's start page (where a login lands) with the browser's session. */
  openHome(page: Page): Promise<void>;
  /** The first page after login shows who is signed in (and that an admin is one). */
  expectSignedIn(page: Page, who: SignedIn): Promise<void>;
  /** Clicks the UI's "MLflow" button or link (in its header). */
  openMlflow(page: Page): Promise<void>;
  accessKey(page: Page, user: { email: string }): AccessKeyDialog;
  resource(page: Page, resource: ResourceRef): ResourcePermissions;
  userPermissions(page: Page, user: string, kind: ResourceKind): UserPermissions;
  groups(page: Page): Groups;
  /** The entries of the UI's navigation (menus, tabs) that name areas of management; for observations. */
  areas(page: Page): Promise<string[]>;
  /** Every mention of an audit log in the UI's navigation and pages (links, buttons, tabs, text). */
  auditMentions(page: Page): Promise<number>;
}

export type PagesFactory = (target: TargetDescriptor, facts: UiFacts) => PermissionsUiPages;
