import * as pulumi from '@pulumi/pulumi';
import type { ResolvedArgs } from './args.ts';

/** What every part of the component needs: the child-name prefix, the parent, the resolved args. */
export interface Ctx {
  /** The component's name: every child is named `${name}-<part>`. */
  name: string;
  parent: pulumi.Resource;
  args: ResolvedArgs;
  accountId: pulumi.Output<string>;
  region: pulumi.Output<string>;
  partition: pulumi.Output<string>;
  /**
   * Value of POWERTOOLS_SERVICE_NAME on both functions: the `service` dimension of the custom metrics,
   * unique per stack so two stacks in one account keep their dashboards apart.
   */
  serviceName: string;
}

/** Options for a child: parented to the component, plus any extra options. */
export function childOpts(ctx: Ctx, extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
  return { parent: ctx.parent, ...extra };
}

/** An IAM policy statement (the subset we write). */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action: string | string[];
  Resource: pulumi.Input<string> | pulumi.Input<string>[];
  Condition?: Record<string, Record<string, pulumi.Input<string | string[] | boolean>>>;
}

/** A policy document as JSON: statements may hold Outputs. */
export function policyJson(statements: pulumi.Input<Statement>[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: '2012-10-17', Statement: statements });
}
