import type { PluginAdapter, UiFamily } from '../../../provision/plugin/adapter.ts';
import type { TargetDescriptor } from '../../../provision/targets/descriptor.ts';
import { angular5 } from './angular-5.ts';
import { react67 } from './react-6-7.ts';
import { react811 } from './react-8-11.ts';
import type { PagesFactory, PermissionsUiPages } from './types.ts';

export type * from './types.ts';

const FAMILIES: Record<UiFamily, PagesFactory> = { 'angular-5': angular5, 'react-6-7': react67, 'react-8-11': react811 };

/** The page objects of the permissions UI the plugin under test ships (its adapter names the family). */
export function permissionsUi(target: TargetDescriptor, plugin: PluginAdapter): PermissionsUiPages {
  return FAMILIES[plugin.ui.family](target, plugin.ui);
}
