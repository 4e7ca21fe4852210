// The periodic task form of django-celery-beat: under the crontab field, the chosen schedule in
// words (templates/admin/djcelery/change_periodictask_form.html loads this file in place of the
// package's inline script). Text nodes, not HTML: the help text and the schedule stay text.
"use strict";
{
    const $ = django.jQuery;
    const script = document.getElementById("periodic-task-overrides");
    const readableCrontabs = JSON.parse(document.getElementById("readable-crontabs").textContent);
    const originalCrontabHelp = script.dataset.crontabHelp;

    $(".field-crontab_translation").hide();
    $(".field-crontab").change(function() {
        const translation = readableCrontabs[$("#id_crontab").val()];
        $(".field-crontab .help").empty().append(
            document.createTextNode(originalCrontabHelp),
            document.createElement("br"),
            document.createTextNode(`Translation: ${translation}`)
        );
    });
}
