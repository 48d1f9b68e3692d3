/**
 * Graded calls in test cells, read with TypeScript's parser. A test cell checks answers with
 * `grading.check(f, reference, { inputs })`, `grading.checkClose(value, expected)`,
 * `grading.checkRange(value, { min, max })` or `grading.checkAnswer(value, expected)`, each
 * written as a statement of its own at the top level of the cell. The first argument is what the
 * student's work is judged by (the "subject"); everything else belongs to the test.
 *
 * The grader turns a test cell into two programs:
 * - for the reference run of the instructor's notebook, the same cell with each call's callee
 *   `grading.check` replaced by `grading.session.site('<test>', <n>).check`, which records the
 *   inputs (drawn from the grader's secret seed) and the reference's results;
 * - for a submission, a cell that only hands each subject to `session.report`, which sends the
 *   student's answers on the recorded inputs back to the grader; no reference, no input generator
 *   and no expected value enters the student's kernel.
 */
import ts from 'typescript';
import { SITE_METHODS, SiteMethod } from 'genlab/dist/grading/records';

export interface GradedCall {
  method: SiteMethod;
  /** Source text of the first argument. */
  subject: string;
  /** Offsets of the callee `grading.<method>` in the cell's source. */
  calleeStart: number;
  calleeEnd: number;
}

/** The alias the generated cells import the grading namespace as (unlikely to clash). */
const ALIAS = 'genlabGrader';

function declaredNames(name: ts.BindingName, out: Set<string>): void {
  if (ts.isIdentifier(name)) out.add(name.text);
  else
    for (const element of name.elements)
      if (!ts.isOmittedExpression(element)) declaredNames(element.name, out);
}

/** Names declared at the top level of a cell (variables, functions, classes, imports). */
function topLevelNames(file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement))
      for (const d of statement.declarationList.declarations) declaredNames(d.name, names);
    else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    )
      names.add(statement.name.text);
    else if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) names.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings))
        for (const e of bindings.elements) names.add(e.name.text);
    }
  }
  return names;
}

/** Identifiers a subject reads (not property names, not names it declares itself). */
function referencedNames(subject: ts.Node): Set<string> {
  const declared = new Set<string>();
  const used = new Set<string>();
  const visit = (node: ts.Node) => {
    if (
      (ts.isParameter(node) || ts.isVariableDeclaration(node) || ts.isBindingElement(node)) &&
      node.name
    )
      declaredNames(node.name, declared);
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node);
      if (!isPropertyName) used.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(subject);
  return new Set([...used].filter((n) => !declared.has(n)));
}

function gradingMethod(node: ts.Node): SiteMethod | null {
  if (
    ts.isPropertyAccessExpression(node) &&
    ts.isIdentifier(node.expression) &&
    node.expression.text === 'grading' &&
    (SITE_METHODS as readonly string[]).includes(node.name.text)
  )
    return node.name.text as SiteMethod;
  return null;
}

/**
 * The graded calls of a test cell, in order. Throws an Error (naming `where`) when the cell has
 * none, when one is not a statement of its own at the top level (inside a function, loop or
 * condition the grader could not ask for each answer once), or when a subject uses a name the test
 * cell itself declares (the submission's kernel never sees the test's own code).
 */
export function gradedCalls(source: string, where: string): GradedCall[] {
  const file = ts.createSourceFile(
    'cell.ts',
    source,
    ts.ScriptTarget.ES2022,
    true,
    ts.ScriptKind.TS,
  );
  const local = topLevelNames(file);
  const calls: GradedCall[] = [];
  const visit = (node: ts.Node) => {
    const method = gradingMethod(node);
    if (method) {
      const call = node.parent;
      const statement = call?.parent;
      const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      if (
        !ts.isCallExpression(call) ||
        call.expression !== node ||
        !ts.isExpressionStatement(statement) ||
        statement.parent !== file
      )
        throw new Error(
          `${where}, line ${line}: grading.${method} must be called as a statement of its own ` +
            `at the top level of the test cell (not inside a function, loop or condition, not ` +
            `stored or awaited), so that the grader can ask for each answer once`,
        );
      if (call.arguments.length === 0)
        throw new Error(`${where}, line ${line}: grading.${method} needs the value to check`);
      const subject = call.arguments[0];
      const clash = [...referencedNames(subject)].filter((n) => local.has(n));
      if (clash.length > 0)
        throw new Error(
          `${where}, line ${line}: the checked expression of grading.${method} uses ` +
            `${clash.join(', ')}, which the test cell itself defines; the student's kernel runs ` +
            `only that expression, so define ${clash.length > 1 ? 'them' : 'it'} in an earlier ` +
            `cell or check the student's name directly`,
        );
      calls.push({
        method,
        subject: subject.getText(file),
        calleeStart: node.getStart(file),
        calleeEnd: node.getEnd(),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (calls.length === 0)
    throw new Error(
      `${where}: a test cell must call grading.${SITE_METHODS.join(', grading.')} at its top ` +
        `level; this one calls none, so nothing could be graded`,
    );
  return calls;
}

/** The test cell as the reference run executes it: each graded call records its site. */
export function referenceSource(source: string, test: string, calls: GradedCall[]): string {
  let out = source;
  for (let n = calls.length - 1; n >= 0; n--) {
    const call = calls[n];
    out =
      out.slice(0, call.calleeStart) +
      `grading.session.site(${JSON.stringify(test)}, ${n}).${call.method}` +
      out.slice(call.calleeEnd);
  }
  return out;
}

/**
 * The test cell as a submission's kernel executes it: the header line, then one report per graded
 * call handing the subject to the grader.
 */
export function studentSource(header: string, test: string, calls: GradedCall[]): string {
  return [
    header,
    "// The grader's version of this test: it sends your answers to the grader, which compares",
    '// them with the reference outside this notebook.',
    `import { grading as ${ALIAS} } from 'genlab';`,
    ...calls.map(
      (c, n) => `${ALIAS}.session.report(${JSON.stringify(test)}, ${n}, () => (${c.subject}));`,
    ),
  ].join('\n');
}
