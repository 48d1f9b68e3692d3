// The kit's extension for the classic Jupyter Notebook (installed by `npm run kernel`): draws
// figure outputs (plotly JSON, application/vnd.plotly.v1+json) with the plotly.js installed beside
// it, no network. The renderer is marked safe, so figures draw in untrusted notebooks too: it runs
// no code from the notebook, only plotly on the figure's JSON.
/* global define, window */
define(['jquery', 'base/js/namespace', 'notebook/js/outputarea', 'require'], function (
  $,
  Jupyter,
  outputarea,
  requirejs,
) {
  'use strict';
  var MIME = 'application/vnd.plotly.v1+json';
  var OutputArea = outputarea.OutputArea;

  function draw(element, fig, name) {
    // plotly.js 3 is no AMD module: loading it sets window.Plotly.
    requirejs(['./plotly.min'], function () {
      var Plotly = window.Plotly;
      // A copy: plotly writes computed ranges into the layout it is given, and the output's JSON
      // is what the notebook saves.
      var copy = JSON.parse(JSON.stringify(fig));
      Plotly.newPlot(element, copy.data, copy.layout, {
        displaylogo: false,
        responsive: true,
        toImageButtonOptions: { format: 'png', scale: 2, filename: name },
      });
    });
  }

  function appendFigure(fig, md, element) {
    var area = this.create_output_subarea(md, 'output_genlab_figure', MIME);
    var div = $('<div/>').addClass('genlab-figure');
    area.append(div);
    element.append(area);
    draw(div[0], fig, (md && md.genlab && md.genlab.name) || 'figure');
    return area;
  }

  /** Outputs rendered before the extension loaded are drawn again, now as figures. */
  function redrawLoadedFigures() {
    var dirty = Jupyter.notebook.dirty;
    Jupyter.notebook.get_cells().forEach(function (cell) {
      var area = cell.output_area;
      if (!area) return;
      var hasFigure = area.outputs.some(function (o) {
        return o.data && o.data[MIME];
      });
      if (!hasFigure) return;
      var outputs = area.toJSON();
      area.clear_output(false, true);
      area.fromJSON(outputs);
    });
    // Drawing again changed nothing to save.
    Jupyter.notebook.set_dirty(dirty);
  }

  function load_ipython_extension() {
    OutputArea.prototype.register_mime_type(MIME, appendFigure, { safe: true, index: 0 });
    if (Jupyter.notebook && Jupyter.notebook._fully_loaded) redrawLoadedFigures();
  }

  return { load_ipython_extension: load_ipython_extension };
});
